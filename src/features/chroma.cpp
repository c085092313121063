#include "features/chroma.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "features/stft_feature.hpp"

namespace harmony::features {

namespace {
constexpr double kTiny = 1e-20;
}  // namespace

std::string Chroma::Config::key() const {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%d/%d/%d/%d/%.3f/%.1f/%.1f/%.1f/%.1f/%.1f/%.3f/%d", n_fft, hop, bins_per_octave,
                  harmonics, harmonic_decay, treble_min_hz, treble_max_hz, bass_min_hz, bass_max_hz, peak_floor_db,
                  magnitude_power, validate_subharmonics ? 1 : 0);
    return buf;
}

Chroma::Chroma(FeatureCache& cache, const Config& cfg) : cfg_(cfg) {
    if (cfg_.bins_per_octave < 12 || cfg_.bins_per_octave % 12 != 0) cfg_.bins_per_octave = 36;
    cfg_.harmonics = std::clamp(cfg_.harmonics, 1, 8);
    auto& stft = cache.get<Stft>({cfg_.n_fft, cfg_.hop, dsp::Window::kBlackmanHarris});
    frame_rate_hz_ = stft.frame_rate_hz();
    bin_hz_ = stft.bin_hz();
    frame_treble_.assign(static_cast<size_t>(cfg_.bins_per_octave), 0.0f);
    frame_bass_.assign(static_cast<size_t>(cfg_.bins_per_octave), 0.0f);
    for (int h = 0; h <= std::max(1, cfg_.harmonics); ++h)
        sub_semitones_.push_back(h == 0 ? 0.0 : 12.0 * std::log2(static_cast<double>(h)));
    stft.subscribe([this](std::span<const float> mag, std::int64_t) { on_frame(mag); });
}

std::span<const float> Chroma::treble(std::int64_t i) const {
    const auto b = static_cast<size_t>(cfg_.bins_per_octave);
    return {treble_.data() + static_cast<size_t>(i) * b, b};
}

std::span<const float> Chroma::bass(std::int64_t i) const {
    const auto b = static_cast<size_t>(cfg_.bins_per_octave);
    return {bass_.data() + static_cast<size_t>(i) * b, b};
}

void Chroma::on_frame(std::span<const float> mag) {
    const int bpo = cfg_.bins_per_octave;
    std::fill(frame_treble_.begin(), frame_treble_.end(), 0.0f);
    std::fill(frame_bass_.begin(), frame_bass_.end(), 0.0f);
    const int n = static_cast<int>(mag.size());
    const int lo = std::max(2, static_cast<int>(std::floor(std::min(cfg_.bass_min_hz, cfg_.treble_min_hz) / bin_hz_)));
    const int hi =
        std::min(n - 2, static_cast<int>(std::ceil(std::max(cfg_.bass_max_hz, cfg_.treble_max_hz) / bin_hz_)));
    double total = 0.0;
    float peak_max = 0.0f;
    for (int k = lo; k <= hi; ++k) {
        const double m = mag[static_cast<size_t>(k)];
        total += m * m;
        peak_max = std::max(peak_max, mag[static_cast<size_t>(k)]);
    }
    double tonal = 0.0;
    peaks_.clear();
    if (peak_max > 1e-7f) {
        const double floor_mag = peak_max * std::pow(10.0, cfg_.peak_floor_db / 20.0);
        auto fine_add = [bpo](std::vector<float>& v, double midi, double w) {
            double pc = std::fmod(midi, 12.0);
            if (pc < 0) pc += 12.0;
            const double pos = pc * bpo / 12.0;
            const int b0 = static_cast<int>(std::floor(pos));
            const double frac = pos - b0;
            // b0 lies in [0, bpo] (pc < 12, or exactly 12 after wrapping a tiny negative): a
            // subtraction instead of the integer division of `% bpo` (the hottest line here).
            const int i0 = b0 >= bpo ? b0 - bpo : b0;
            const int i1 = b0 + 1 >= bpo ? b0 + 1 - bpo : b0 + 1;
            v[static_cast<size_t>(i0)] += static_cast<float>(w * (1.0 - frac));
            v[static_cast<size_t>(i1)] += static_cast<float>(w * frac);
        };
        for (int k = lo; k <= hi; ++k) {
            const float m = mag[static_cast<size_t>(k)];
            if (m < floor_mag || m <= mag[static_cast<size_t>(k - 1)] || m < mag[static_cast<size_t>(k + 1)]) continue;
            // Parabolic interpolation on the dB spectrum.
            const double a = 20.0 * std::log10(mag[static_cast<size_t>(k - 1)] + kTiny);
            const double b = 20.0 * std::log10(m + kTiny);
            const double c = 20.0 * std::log10(mag[static_cast<size_t>(k + 1)] + kTiny);
            const double den = a - 2.0 * b + c;
            const double p = den < 0.0 ? std::clamp(0.5 * (a - c) / den, -0.5, 0.5) : 0.0;
            const double f = (k + p) * bin_hz_;
            const double amp = std::pow(10.0, (b - 0.25 * (a - c) * p) / 20.0);
            if (f <= 0.0) continue;
            tonal += amp * amp;
            const double midi = 69.0 + 12.0 * std::log2(f / 440.0);
            if (f >= 100.0 && f <= 3000.0) {
                double dev = midi - std::round(midi);  // [-0.5, 0.5]
                int bin = static_cast<int>(std::floor(dev * 100.0 + 50.0));
                bin = std::clamp(bin, 0, 99);
                tuning_hist_[static_cast<size_t>(bin)] += amp;
            }
            const double vote = cfg_.magnitude_power == 1.0 ? amp : std::pow(amp, cfg_.magnitude_power);
            peaks_.push_back({f, midi, vote});
        }
        // Votes. Peaks are in ascending frequency. A peak's sub-harmonic f/h votes only when
        // validate_subharmonics is off, or when a peak actually sits there (+-40 cents): then the
        // upper partials reinforce a present fundamental without inventing a fifth below it.
        for (const auto& pk : peaks_) {
            if (pk.hz >= cfg_.treble_min_hz && pk.hz <= cfg_.treble_max_hz) {
                double w = pk.vote;
                for (int h = 1; h <= cfg_.harmonics; ++h) {
                    if (pk.hz / h < 50.0) break;
                    const double target = pk.midi - sub_semitones_[static_cast<size_t>(h)];
                    bool ok = h == 1 || !cfg_.validate_subharmonics;
                    if (!ok) {
                        auto it = std::lower_bound(peaks_.begin(), peaks_.end(), target - 0.4,
                                                   [](const Peak& q, double v) { return q.midi < v; });
                        ok = it != peaks_.end() && it->midi <= target + 0.4;
                    }
                    if (ok) fine_add(frame_treble_, target, w);
                    w *= cfg_.harmonic_decay;
                }
            }
            if (pk.hz >= cfg_.bass_min_hz && pk.hz <= cfg_.bass_max_hz) fine_add(frame_bass_, pk.midi, pk.vote);
        }
    }
    treble_.insert(treble_.end(), frame_treble_.begin(), frame_treble_.end());
    bass_.insert(bass_.end(), frame_bass_.begin(), frame_bass_.end());
    tonal_.push_back(static_cast<float>(tonal));
    total_.push_back(static_cast<float>(total));
}

Chroma::Tuning Chroma::tuning() const {
    Tuning t;
    double sum = 0.0, re = 0.0, im = 0.0;
    for (size_t i = 0; i < tuning_hist_.size(); ++i) {
        const double ang = 2.0 * std::numbers::pi * (static_cast<double>(i) + 0.5 - 50.0) / 100.0;
        sum += tuning_hist_[i];
        re += tuning_hist_[i] * std::cos(ang);
        im += tuning_hist_[i] * std::sin(ang);
    }
    if (sum <= 0.0) return t;
    // Mode of the circularly smoothed histogram, refined by a local circular mean (+-12 cents).
    std::array<double, 100> smooth{};
    for (int i = 0; i < 100; ++i)
        for (int d = -4; d <= 4; ++d)
            smooth[static_cast<size_t>(i)] +=
                (5 - std::abs(d)) * tuning_hist_[static_cast<size_t>((i + d + 100) % 100)];
    const int best = static_cast<int>(std::max_element(smooth.begin(), smooth.end()) - smooth.begin());
    double lre = 0.0, lim = 0.0;
    for (int d = -12; d <= 12; ++d) {
        const int i = (best + d + 100) % 100;
        const double ang = 2.0 * std::numbers::pi * (i + 0.5 - 50.0) / 100.0;
        lre += tuning_hist_[static_cast<size_t>(i)] * std::cos(ang);
        lim += tuning_hist_[static_cast<size_t>(i)] * std::sin(ang);
    }
    double cents = std::atan2(lim, lre) / (2.0 * std::numbers::pi) * 100.0;
    if (cents >= 50.0) cents -= 100.0;
    if (cents < -50.0) cents += 100.0;
    t.cents = cents;
    t.a4_hz = 440.0 * std::pow(2.0, cents / 1200.0);
    t.confidence = std::clamp(std::hypot(re, im) / sum, 0.0, 1.0);
    return t;
}

std::array<double, 12> Chroma::fold(std::span<const float> fine, double cents) const {
    std::array<double, 12> out{};
    const int bpo = cfg_.bins_per_octave;
    for (int j = 0; j < bpo; ++j) {
        const double v = fine[static_cast<size_t>(j)];
        if (v == 0.0) continue;
        double x = j * 12.0 / bpo - cents / 100.0;  // tuned pitch class, semitones
        x = std::fmod(x + 12.0, 12.0);
        const int p0 = static_cast<int>(std::floor(x));
        const double frac = x - p0;
        out[static_cast<size_t>(p0 % 12)] += v * (1.0 - frac);
        out[static_cast<size_t>((p0 + 1) % 12)] += v * frac;
    }
    return out;
}

}  // namespace harmony::features
