// Compact per-frame rhythm features, streamed from the shared STFT (2048 / 220 at 22.05 kHz,
// ~100 frames per second): log-band spectral flux in three frequency groups (low: kick/bass,
// mid, high: snare/hi-hat), the frame level, and a coarse chroma (every 4th frame, 8 bits) for
// harmonic-change cues. About 20 bytes per frame: a 10-hour file keeps ~70 MB, a 4-minute file
// under 0.5 MB. Used by the tempo and beats analyzers (src/analyzers/rhythm).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "features/feature_cache.hpp"

namespace harmony::features {

class RhythmFeatures : public StreamFeature {
public:
    static constexpr int kChromaDecimation = 4;  // one chroma vector per 4 onset frames
    struct Config {
        std::string key() const { return "rhythm-v1"; }
    };
    RhythmFeatures(FeatureCache& cache, const Config& cfg);

    double frame_rate_hz() const { return frame_rate_; }
    size_t frames() const { return low_.size(); }
    const std::vector<float>& low_flux() const { return low_; }
    const std::vector<float>& mid_flux() const { return mid_; }
    const std::vector<float>& high_flux() const { return high_; }
    /// Frame level in dB relative to a full-scale sine (about -100 for digital silence).
    const std::vector<float>& level_db() const { return level_db_; }
    /// chroma()[j] covers onset frames [j*4, j*4+4); each vector scaled so its maximum is 255.
    const std::vector<std::array<std::uint8_t, 12>>& chroma() const { return chroma_; }

private:
    void on_frame(std::span<const float> mag);

    double frame_rate_ = 100.0;
    double bin_hz_ = 10.0;
    float mag_scale_ = 1.0f;
    std::vector<int> band_of_bin_;    // -1: unused
    std::vector<int> group_of_band_;  // 0 low, 1 mid, 2 high
    std::vector<int> pc_of_bin_;      // -1: outside the chroma range
    std::vector<float> band_sum_;
    std::vector<float> log_prev1_, log_prev2_, log_cur_;
    std::array<float, 12> chroma_acc_{};
    int chroma_count_ = 0;
    std::vector<float> low_, mid_, high_, level_db_;
    std::vector<std::array<std::uint8_t, 12>> chroma_;
};

}  // namespace harmony::features
