#include "features/rhythm_features.hpp"

#include <algorithm>
#include <cmath>

#include "features/stft_feature.hpp"

namespace harmony::features {

namespace {
constexpr int kNfft = 2048;
constexpr int kHop = 220;
constexpr double kBandLowHz = 30.0;
constexpr double kBandsPerOctave = 6.0;
constexpr double kLowGroupMaxHz = 160.0;
constexpr double kMidGroupMaxHz = 2500.0;
constexpr double kChromaMinHz = 110.0;
constexpr double kChromaMaxHz = 2100.0;
constexpr float kLogGain = 1000.0f;
}  // namespace

RhythmFeatures::RhythmFeatures(FeatureCache& cache, const Config&) {
    auto& stft = cache.get<Stft>(Stft::Config{kNfft, kHop, dsp::Window::kHann});
    frame_rate_ = stft.frame_rate_hz();
    bin_hz_ = stft.bin_hz();
    mag_scale_ = 4.0f / kNfft;  // a full-scale sine peaks near 1
    const int bins = kNfft / 2 + 1;
    band_of_bin_.assign(static_cast<size_t>(bins), -1);
    pc_of_bin_.assign(static_cast<size_t>(bins), -1);
    int max_band = -1;
    for (int k = 1; k < bins; ++k) {
        const double f = k * bin_hz_;
        if (f >= kBandLowHz && f < 10500.0) {
            const int b = static_cast<int>(std::floor(kBandsPerOctave * std::log2(f / kBandLowHz)));
            band_of_bin_[static_cast<size_t>(k)] = b;
            max_band = std::max(max_band, b);
        }
        if (f >= kChromaMinHz && f <= kChromaMaxHz) {
            const double midi = 69.0 + 12.0 * std::log2(f / 440.0);
            pc_of_bin_[static_cast<size_t>(k)] = static_cast<int>(std::lround(midi)) % 12;
        }
    }
    const size_t nb = static_cast<size_t>(max_band + 1);
    group_of_band_.resize(nb);
    for (size_t b = 0; b < nb; ++b) {
        const double centre = kBandLowHz * std::pow(2.0, (static_cast<double>(b) + 0.5) / kBandsPerOctave);
        group_of_band_[b] = centre < kLowGroupMaxHz ? 0 : (centre < kMidGroupMaxHz ? 1 : 2);
    }
    band_sum_.assign(nb, 0.0f);
    log_prev1_.assign(nb, 0.0f);
    log_prev2_.assign(nb, 0.0f);
    log_cur_.assign(nb, 0.0f);
    stft.subscribe([this](std::span<const float> mag, std::int64_t) { on_frame(mag); });
}

void RhythmFeatures::on_frame(std::span<const float> mag) {
    std::fill(band_sum_.begin(), band_sum_.end(), 0.0f);
    float total = 0.0f;
    const size_t bins = std::min(mag.size(), band_of_bin_.size());
    for (size_t k = 1; k < bins; ++k) {
        const float m = mag[k] * mag_scale_;
        const int b = band_of_bin_[k];
        if (b >= 0) band_sum_[static_cast<size_t>(b)] += m;
        total += m * m;
        const int pc = pc_of_bin_[k];
        if (pc >= 0) chroma_acc_[static_cast<size_t>(pc)] += m * m;
    }
    float g[3] = {0.0f, 0.0f, 0.0f};
    for (size_t b = 0; b < band_sum_.size(); ++b) {
        const float l = std::log1p(kLogGain * band_sum_[b]);
        log_cur_[b] = l;
        // Flux against the frame two hops back (20 ms): the 93 ms window overlaps heavily.
        const float d = l - log_prev2_[b];
        if (d > 0.0f) g[group_of_band_[b]] += d;
    }
    std::swap(log_prev2_, log_prev1_);
    std::swap(log_prev1_, log_cur_);
    low_.push_back(g[0]);
    mid_.push_back(g[1]);
    high_.push_back(g[2]);
    level_db_.push_back(static_cast<float>(10.0 * std::log10(2.0 * total + 1e-10)));
    if (++chroma_count_ == kChromaDecimation) {
        float mx = 0.0f;
        for (float v : chroma_acc_) mx = std::max(mx, v);
        std::array<std::uint8_t, 12> c{};
        if (mx > 1e-9f)
            for (size_t i = 0; i < 12; ++i)
                c[i] = static_cast<std::uint8_t>(std::lround(255.0f * std::sqrt(chroma_acc_[i] / mx)));
        chroma_.push_back(c);
        chroma_acc_.fill(0.0f);
        chroma_count_ = 0;
    }
}

}  // namespace harmony::features
