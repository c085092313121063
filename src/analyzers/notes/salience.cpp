#include "analyzers/notes/salience.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>

#include "features/stft_feature.hpp"

namespace harmony::analyzers::notes {

namespace {

constexpr int kBinsPerSemitone = 5;  // 20-cent grid

double hz_to_midi(double hz) {
    return 69.0 + 12.0 * std::log2(hz / 440.0);
}

struct Peak {
    double midi;
    double amp;
};

}  // namespace

std::string SalienceConfig::key() const {
    char buf[200];
    std::snprintf(buf, sizeof buf, "%d/%d/%.2f/%.2f/%.1f/%.1f/%d/%.3f/%d/%.1f/%.1f", n_fft, hop, min_midi, max_midi,
                  peak_min_hz, peak_max_hz, harmonics, decay, candidates, floor_db, silence_db);
    return buf;
}

std::vector<Candidate> frame_candidates(std::span<const float> mag, double bin_hz, const SalienceConfig& cfg) {
    std::vector<Candidate> out;
    const int n = static_cast<int>(mag.size());
    const int lo = std::max(1, static_cast<int>(std::floor(cfg.peak_min_hz / bin_hz)));
    const int hi = std::min(n - 2, static_cast<int>(std::ceil(cfg.peak_max_hz / bin_hz)));
    if (hi <= lo) return out;
    float mx = 0.0f;
    for (int k = lo; k <= hi; ++k) mx = std::max(mx, mag[static_cast<size_t>(k)]);
    // A full-scale sine through a Hann window peaks at n_fft / 4.
    const double full_scale = cfg.n_fft / 4.0;
    const double abs_floor = full_scale * std::pow(10.0, cfg.silence_db / 20.0);
    const double floor = std::max(abs_floor, mx * std::pow(10.0, cfg.floor_db / 20.0));
    if (mx <= abs_floor) return out;

    std::vector<Peak> peaks;
    double amp_sum = 0.0;
    for (int k = lo; k <= hi; ++k) {
        const float m = mag[static_cast<size_t>(k)];
        if (m <= floor || m <= mag[static_cast<size_t>(k - 1)] || m < mag[static_cast<size_t>(k + 1)]) continue;
        const double a = std::log(mag[static_cast<size_t>(k - 1)] + 1e-12);
        const double b = std::log(m + 1e-12);
        const double c = std::log(mag[static_cast<size_t>(k + 1)] + 1e-12);
        const double den = a - 2.0 * b + c;
        const double d = den < 0.0 ? std::clamp(0.5 * (a - c) / den, -0.5, 0.5) : 0.0;
        const double hz = (k + d) * bin_hz;
        const double amp = std::exp(b - 0.25 * (a - c) * d) / full_scale;
        peaks.push_back({hz_to_midi(hz), amp});
        amp_sum += amp;
    }
    if (peaks.empty()) return out;
    if (peaks.size() > 60) {
        std::nth_element(peaks.begin(), peaks.begin() + 60, peaks.end(),
                         [](const Peak& x, const Peak& y) { return x.amp > y.amp; });
        peaks.resize(60);
    }

    const double base = cfg.min_midi - 1.0;
    const int bins = static_cast<int>(std::ceil((cfg.max_midi + 1.0 - base) * kBinsPerSemitone)) + 1;
    std::vector<float> sal(static_cast<size_t>(bins), 0.0f);
    for (const auto& p : peaks) {
        double w_h = 1.0;
        for (int h = 1; h <= cfg.harmonics; ++h, w_h *= cfg.decay) {
            const double m0 = p.midi - 12.0 * std::log2(static_cast<double>(h));
            if (m0 < base - 1.0) break;
            const double x = (m0 - base) * kBinsPerSemitone;
            const int j0 = std::max(0, static_cast<int>(std::ceil(x - kBinsPerSemitone)));
            const int j1 = std::min(bins - 1, static_cast<int>(std::floor(x + kBinsPerSemitone)));
            for (int j = j0; j <= j1; ++j) {
                const double delta = std::abs(j - x) / kBinsPerSemitone;
                const double c = std::cos(0.5 * std::numbers::pi * delta);
                sal[static_cast<size_t>(j)] += static_cast<float>(w_h * p.amp * c * c);
            }
        }
    }
    // Local maxima inside the range, parabolically refined.
    const int j_lo = std::max(1, static_cast<int>(std::floor((cfg.min_midi - base) * kBinsPerSemitone)));
    const int j_hi = std::min(bins - 2, static_cast<int>(std::ceil((cfg.max_midi - base) * kBinsPerSemitone)));
    for (int j = j_lo; j <= j_hi; ++j) {
        const float s = sal[static_cast<size_t>(j)];
        if (s <= 0.0f || s <= sal[static_cast<size_t>(j - 1)] || s < sal[static_cast<size_t>(j + 1)]) continue;
        const double a = sal[static_cast<size_t>(j - 1)], b = s, c = sal[static_cast<size_t>(j + 1)];
        const double den = a - 2.0 * b + c;
        const double d = den < 0.0 ? std::clamp(0.5 * (a - c) / den, -0.5, 0.5) : 0.0;
        const double peak = b - 0.25 * (a - c) * d;
        out.push_back({static_cast<float>(base + (j + d) / kBinsPerSemitone), static_cast<float>(peak),
                       static_cast<float>(peak / amp_sum)});
    }
    std::sort(out.begin(), out.end(), [](const Candidate& x, const Candidate& y) { return x.salience > y.salience; });
    if (static_cast<int>(out.size()) > cfg.candidates) out.resize(static_cast<size_t>(cfg.candidates));
    return out;
}

PitchSalience::PitchSalience(features::FeatureCache& cache, const Config& cfg) : cfg_(cfg) {
    auto& stft = cache.get<features::Stft>({cfg_.n_fft, cfg_.hop, dsp::Window::kHann});
    bin_hz_ = stft.bin_hz();
    frame_rate_hz_ = stft.frame_rate_hz();
    stft.subscribe([this](std::span<const float> mag, std::int64_t) {
        offsets_.push_back(static_cast<std::uint32_t>(cands_.size()));
        for (const auto& c : frame_candidates(mag, bin_hz_, cfg_)) cands_.push_back(c);
    });
}

std::span<const Candidate> PitchSalience::frame(std::int64_t i) const {
    const auto k = static_cast<size_t>(i);
    const size_t b = offsets_[k];
    const size_t e = k + 1 < offsets_.size() ? offsets_[k + 1] : cands_.size();
    return {cands_.data() + b, e - b};
}

}  // namespace harmony::analyzers::notes
