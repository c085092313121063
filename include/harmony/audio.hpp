// Harmony — audio buffers handed to analyzers. The engine never decodes; io:: does.
#pragma once

#include <cstddef>
#include <vector>

namespace harmony {

/// Mono float PCM at a known rate. Samples are nominally in [-1, 1].
struct AudioBuffer {
    std::vector<float> samples;
    int sample_rate_hz = 0;

    double duration_s() const noexcept {
        return sample_rate_hz > 0 ? static_cast<double>(samples.size()) / sample_rate_hz : 0.0;
    }
};

}  // namespace harmony
