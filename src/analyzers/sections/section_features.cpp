#include "analyzers/sections/section_features.hpp"

#include <algorithm>
#include <cmath>

#include "features/stft_feature.hpp"

namespace harmony::features {

namespace {
constexpr double kChromaMinHz = 80.0;
constexpr double kChromaMaxHz = 2500.0;
constexpr double kBandMinHz = 40.0;
constexpr double kBandMaxHz = 11000.0;

std::uint8_t quantise_db(double db) {
    return static_cast<std::uint8_t>(std::clamp(std::lround((db + 110.0) * 2.0), 0L, 255L));
}
}  // namespace

SectionFeatures::SectionFeatures(FeatureCache& cache, const Config&) {
    auto& stft = cache.get<Stft>(Stft::Config{kNfft, kHop, dsp::Window::kHann});
    frame_rate_ = stft.frame_rate_hz();
    const double bin_hz = stft.bin_hz();
    mag_scale_ = 4.0f / kNfft;  // a full-scale sine peaks near 1
    const int bins = kNfft / 2 + 1;
    pc_of_bin_.assign(static_cast<size_t>(bins), -1);
    band_of_bin_.assign(static_cast<size_t>(bins), -1);
    const double octaves = std::log2(kBandMaxHz / kBandMinHz);
    for (int k = 1; k < bins; ++k) {
        const double f = k * bin_hz;
        if (f >= kChromaMinHz && f <= kChromaMaxHz) {
            const double midi = 69.0 + 12.0 * std::log2(f / 440.0);
            pc_of_bin_[static_cast<size_t>(k)] = static_cast<int>(std::lround(midi)) % 12;
        }
        if (f >= kBandMinHz && f < kBandMaxHz)
            band_of_bin_[static_cast<size_t>(k)] =
                std::min(kBands - 1, static_cast<int>(std::floor(kBands * std::log2(f / kBandMinHz) / octaves)));
    }
    stft.subscribe([this](std::span<const float> mag, std::int64_t) { on_frame(mag); });
}

void SectionFeatures::on_frame(std::span<const float> mag) {
    std::array<float, 12> pc{};
    std::array<float, kBands> band{};
    float total = 0.0f;
    const size_t n = std::min(mag.size(), pc_of_bin_.size());
    for (size_t k = 1; k < n; ++k) {
        const float m = mag[k] * mag_scale_;
        const float e = m * m;
        total += e;
        if (const int p = pc_of_bin_[k]; p >= 0) pc[static_cast<size_t>(p)] += m;  // amplitude: less peaky
        if (const int b = band_of_bin_[k]; b >= 0) band[static_cast<size_t>(b)] += e;
    }
    Frame f{};
    const float mx = *std::max_element(pc.begin(), pc.end());
    for (size_t i = 0; i < 12; ++i)
        f.chroma[i] = mx > 1e-9f ? static_cast<std::uint8_t>(std::lround(255.0f * pc[i] / mx)) : 0;
    for (size_t b = 0; b < static_cast<size_t>(kBands); ++b)
        f.bands[b] = quantise_db(10.0 * std::log10(static_cast<double>(band[b]) + 1e-12));
    f.level = quantise_db(10.0 * std::log10(static_cast<double>(total) + 1e-12));
    frames_.push_back(f);
}

}  // namespace harmony::features
