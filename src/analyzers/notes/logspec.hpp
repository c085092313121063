// Input of the learned note model (src/analyzers/notes/pitch_net.hpp): a log-frequency magnitude
// spectrogram, 3 bins per semitone from MIDI 21 (A0) up (264 bins, to MIDI 108.67), one frame per
// 20 ms. Bins below MIDI 54 read a 4096-point STFT, the others a 2048-point one (both centred, same
// hop, so frame k of each is centred on the same sample). A bin takes the largest FFT magnitude
// inside its third of a semitone or, where the FFT is coarser than that, the magnitude
// interpolated at its centre. Values are ln(amplitude re a full-scale sine + 1e-5); normalized()
// subtracts the file's median frame maximum, so the model sees the same input at any gain.
// tools/train_notes/dump_features.cpp writes exactly normalized() for training.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "features/feature_cache.hpp"

namespace harmony::analyzers::notes {

inline constexpr int kLogBins = 264;
inline constexpr int kLogBinsPerSemitone = 3;
inline constexpr double kLogMinMidi = 21.0;
inline constexpr double kLogSplitMidi = 54.0;  // below: the 4096-point STFT

struct LogSpecConfig {
    int hop = 441;  // 20 ms at 22.05 kHz
    std::string key() const { return "logspec/" + std::to_string(hop); }
};

class LogSpectrum : public features::StreamFeature {
public:
    using Config = LogSpecConfig;
    LogSpectrum(features::FeatureCache& cache, const Config& cfg);

    double frame_rate_hz() const { return frame_rate_hz_; }
    std::int64_t frames() const { return static_cast<std::int64_t>(rows_.size() / kLogBins); }
    /// Row-major [frames][kLogBins], the file's median frame maximum subtracted.
    std::vector<float> normalized() const;

private:
    void fill(std::span<const float> mag, std::int64_t frame, int n_fft, double bin_hz, bool low);
    Config cfg_;
    double frame_rate_hz_ = 0.0;
    std::vector<float> rows_;
};

}  // namespace harmony::analyzers::notes
