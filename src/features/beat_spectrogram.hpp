// Log-band magnitude spectrogram for the learned beat/downbeat network (src/analyzers/rhythm/
// beat_net.hpp): the shared STFT (2048 / 220 at 22.05 kHz, ~100 frames per second), magnitudes
// summed in bands of 1/6 octave from 30 Hz to the Nyquist frequency (bands with no FFT bin
// dropped: 48 bands at 22.05 kHz), compressed as log(1 + 1000 x). The same numbers feed training
// (tools/train_beats/dump_features.cpp) and inference. Kept for the analysed segment: 48 floats a
// frame, ~19 KB per second of audio.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "features/feature_cache.hpp"

namespace harmony::features {

class BeatSpectrogram : public StreamFeature {
public:
    struct Config {
        std::string key() const { return "beat-spec-v1"; }
    };
    BeatSpectrogram(FeatureCache& cache, const Config& cfg);

    double frame_rate_hz() const { return frame_rate_; }
    int bands() const { return bands_; }
    size_t frames() const { return bands_ > 0 ? data_.size() / static_cast<size_t>(bands_) : 0; }
    /// Frame-major: data()[t * bands() + b].
    const std::vector<float>& data() const { return data_; }

    /// The band of each FFT bin (-1: unused) for an n_fft-point FFT at rate_hz; *bands gets the count.
    static std::vector<int> band_map(int n_fft, int rate_hz, int* bands);

private:
    void on_frame(std::span<const float> mag);

    double frame_rate_ = 100.0;
    float mag_scale_ = 1.0f;
    int bands_ = 0;
    std::vector<int> band_of_bin_;
    std::vector<float> data_;
};

}  // namespace harmony::features
