#include "features/beat_spectrogram.hpp"

#include <algorithm>
#include <cmath>

#include "features/stft_feature.hpp"

namespace harmony::features {

namespace {
constexpr int kNfft = 2048;
constexpr int kHop = 220;
constexpr double kLowHz = 30.0;
constexpr double kBandsPerOctave = 6.0;
constexpr float kLogGain = 1000.0f;
}  // namespace

std::vector<int> BeatSpectrogram::band_map(int n_fft, int rate_hz, int* bands) {
    const int bins = n_fft / 2 + 1;
    const double bin_hz = static_cast<double>(rate_hz) / n_fft;
    std::vector<int> raw(static_cast<size_t>(bins), -1);
    int max_band = -1;
    for (int k = 1; k < bins; ++k) {
        const double f = k * bin_hz;
        if (f < kLowHz) continue;
        raw[static_cast<size_t>(k)] = static_cast<int>(std::floor(kBandsPerOctave * std::log2(f / kLowHz)));
        max_band = std::max(max_band, raw[static_cast<size_t>(k)]);
    }
    // Renumber the bands that hold at least one bin (the lowest 1/6 octaves are narrower than a bin).
    std::vector<int> index(static_cast<size_t>(max_band + 1), -1);
    int n = 0;
    for (int b : raw)
        if (b >= 0 && index[static_cast<size_t>(b)] < 0) index[static_cast<size_t>(b)] = n++;
    for (auto& b : raw)
        if (b >= 0) b = index[static_cast<size_t>(b)];
    if (bands) *bands = n;
    return raw;
}

BeatSpectrogram::BeatSpectrogram(FeatureCache& cache, const Config&) {
    auto& stft = cache.get<Stft>(Stft::Config{kNfft, kHop, dsp::Window::kHann});
    frame_rate_ = stft.frame_rate_hz();
    mag_scale_ = 4.0f / kNfft;  // a full-scale sine peaks near 1 (as RhythmFeatures)
    band_of_bin_ = band_map(kNfft, cache.sample_rate_hz(), &bands_);
    stft.subscribe([this](std::span<const float> mag, std::int64_t) { on_frame(mag); });
}

void BeatSpectrogram::on_frame(std::span<const float> mag) {
    const size_t base = data_.size();
    data_.resize(base + static_cast<size_t>(bands_), 0.0f);
    float* row = data_.data() + base;
    const size_t bins = std::min(mag.size(), band_of_bin_.size());
    for (size_t k = 1; k < bins; ++k) {
        const int b = band_of_bin_[k];
        if (b >= 0) row[b] += mag[k] * mag_scale_;
    }
    for (int b = 0; b < bands_; ++b) row[b] = std::log1p(kLogGain * row[b]);
}

}  // namespace harmony::features
