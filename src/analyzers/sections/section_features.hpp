// Compact per-frame features for song-structure analysis, streamed from a cheap STFT of its own
// (4096-point Hann, hop 2048 at 22.05 kHz: 10.8 frames per second). Per frame it keeps a 12-bin
// pitch-class profile (80-2500 Hz, harmony and melody), 24 log-spaced band levels (40 Hz-11 kHz,
// timbre; the structure analyzer turns them into cepstral coefficients) and the frame level, all
// quantised to one byte: 37 bytes per frame, so a 4-minute file keeps 96 kB and a 10-hour file
// 14 MB. The structure analyzer aggregates them per beat and per bar (beat-synchronous) once the
// beat grid is known. Nothing else is kept (no spectrum).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "features/feature_cache.hpp"

namespace harmony::features {

class SectionFeatures : public StreamFeature {
public:
    static constexpr int kBands = 24;
    static constexpr int kNfft = 4096;
    static constexpr int kHop = 2048;
    struct Config {
        std::string key() const { return "sections-v1"; }
    };
    struct Frame {
        std::array<std::uint8_t, 12> chroma;     // scaled so the frame's maximum is 255 (0: no energy)
        std::array<std::uint8_t, kBands> bands;  // band level, 0.5 dB steps from -110 dB
        std::uint8_t level;                      // frame level, 0.5 dB steps from -110 dB
    };
    SectionFeatures(FeatureCache& cache, const Config& cfg);

    double frame_rate_hz() const { return frame_rate_; }
    /// Frame k is centred on k / frame_rate_hz() seconds.
    const std::vector<Frame>& frames() const { return frames_; }
    static double to_db(std::uint8_t q) { return -110.0 + 0.5 * q; }

private:
    void on_frame(std::span<const float> mag);

    double frame_rate_ = 0.0;
    float mag_scale_ = 1.0f;
    std::vector<int> pc_of_bin_;    // -1: outside the chroma range
    std::vector<int> band_of_bin_;  // -1: outside the band range
    std::vector<Frame> frames_;
};

}  // namespace harmony::features
