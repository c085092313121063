// Harmony — audio in memory: interleaved float samples and their rate and channel count. The
// engine analyses such a buffer directly (Engine::analyze_pcm); analyzers that need the whole
// signal at some rate or layout receive one.
#pragma once

#include <cstddef>
#include <vector>

namespace harmony {

struct AudioBuffer {
    std::vector<float> samples;  // interleaved, nominally in [-1, 1]
    int sample_rate_hz = 0;
    int channels = 1;

    std::size_t frames() const { return channels > 0 ? samples.size() / static_cast<std::size_t>(channels) : 0; }
    double duration_s() const { return sample_rate_hz > 0 ? static_cast<double>(frames()) / sample_rate_hz : 0.0; }
};

}  // namespace harmony
