#include "analyzers/notes/logspec.hpp"

#include <algorithm>
#include <cmath>

#include "features/stft_feature.hpp"

namespace harmony::analyzers::notes {

namespace {

constexpr float kFloor = 1e-5f;

double bin_midi(int j) {
    return kLogMinMidi + static_cast<double>(j) / kLogBinsPerSemitone;
}

double midi_hz(double m) {
    return 440.0 * std::pow(2.0, (m - 69.0) / 12.0);
}

}  // namespace

LogSpectrum::LogSpectrum(features::FeatureCache& cache, const Config& cfg) : cfg_(cfg) {
    for (const int n_fft : {4096, 2048}) {
        auto& stft = cache.get<features::Stft>({n_fft, cfg_.hop, dsp::Window::kHann});
        frame_rate_hz_ = stft.frame_rate_hz();
        const double bin_hz = stft.bin_hz();
        stft.subscribe([this, n_fft, bin_hz](std::span<const float> mag, std::int64_t k) {
            fill(mag, k, n_fft, bin_hz, n_fft == 4096);
        });
    }
}

void LogSpectrum::fill(std::span<const float> mag, std::int64_t frame, int n_fft, double bin_hz, bool low) {
    const auto need = static_cast<size_t>(frame + 1) * kLogBins;
    if (rows_.size() < need) rows_.resize(need, std::log(kFloor));
    float* row = rows_.data() + static_cast<size_t>(frame) * kLogBins;
    const double full_scale = n_fft / 4.0;  // a full-scale sine through a Hann window
    const int n = static_cast<int>(mag.size());
    const double half = std::pow(2.0, 0.5 / (12.0 * kLogBinsPerSemitone));
    for (int j = 0; j < kLogBins; ++j) {
        const double m = bin_midi(j);
        if ((m < kLogSplitMidi) != low) continue;
        const double f = midi_hz(m);
        const int k0 = static_cast<int>(std::ceil(f / half / bin_hz));
        const int k1 = std::min(n - 1, static_cast<int>(std::floor(f * half / bin_hz)));
        double a = 0.0;
        if (k0 <= k1) {
            for (int k = k0; k <= k1; ++k) a = std::max(a, static_cast<double>(mag[static_cast<size_t>(k)]));
        } else {
            const double x = f / bin_hz;
            const int i = std::min(n - 2, static_cast<int>(std::floor(x)));
            const double t = x - i;
            a = (1.0 - t) * mag[static_cast<size_t>(i)] + t * mag[static_cast<size_t>(i + 1)];
        }
        row[j] = static_cast<float>(std::log(a / full_scale + kFloor));
    }
}

std::vector<float> LogSpectrum::normalized() const {
    std::vector<float> out = rows_;
    const auto n = static_cast<size_t>(frames());
    if (n == 0) return out;
    std::vector<float> mx(n);
    for (size_t i = 0; i < n; ++i)
        mx[i] = *std::max_element(out.begin() + static_cast<std::ptrdiff_t>(i * kLogBins),
                                  out.begin() + static_cast<std::ptrdiff_t>((i + 1) * kLogBins));
    std::nth_element(mx.begin(), mx.begin() + static_cast<std::ptrdiff_t>(n / 2), mx.end());
    const float ref = mx[n / 2];
    for (auto& v : out) v -= ref;
    return out;
}

}  // namespace harmony::analyzers::notes
