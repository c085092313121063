#include "analyzers/stems/separation.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>

#include "analyzers/stems/mask_model.hpp"
#include "dsp/stft.hpp"

namespace harmony::analyzers::stems {

namespace {

using cfloat = std::complex<float>;

std::int64_t to_hops(double seconds, int rate, int hop, std::int64_t at_least) {
    const auto h = static_cast<std::int64_t>(std::llround(seconds * rate / hop));
    return std::max(at_least, h) * hop;
}

/// Median of each row's sliding window of `width` (odd) values along a contiguous row of `n`,
/// the window truncated at the ends.
void sliding_median(const float* in, float* out, std::size_t n, int width, std::vector<float>& scratch) {
    const auto half = static_cast<std::ptrdiff_t>(width / 2);
    const auto len = static_cast<std::ptrdiff_t>(n);
    for (std::ptrdiff_t i = 0; i < len; ++i) {
        const std::ptrdiff_t lo = std::max<std::ptrdiff_t>(0, i - half), hi = std::min(len, i + half + 1);
        scratch.assign(in + lo, in + hi);
        auto mid = scratch.begin() + (hi - lo) / 2;
        std::nth_element(scratch.begin(), mid, scratch.end());
        out[i] = *mid;
    }
}

int odd_at_least_1(double x) {
    int v = std::max(1, static_cast<int>(std::lround(x)));
    return v % 2 == 0 ? v + 1 : v;
}

}  // namespace

int stft_size_for(int rate_hz) {
    int n = 256;
    while (n < 65536 && n * 2 <= static_cast<int>(std::lround(0.093 * rate_hz * 1.41))) n *= 2;
    return n;
}

Result<void> separate(const AudioBuffer& mix, const SeparationConfig& cfg, const StemSink& sink,
                      const std::function<void(double)>& progress, std::stop_token stop, SeparationStats* stats) {
    const int sr = mix.sample_rate_hz;
    const int C = std::max(1, mix.channels);
    const auto N = static_cast<std::int64_t>(mix.frames());
    if (sr <= 0) return make_error(ErrorCode::kInvalidArgument, "stems: no sample rate");
    if (N == 0) return {};
    const int n = stft_size_for(sr);
    const int hop = n / 4;
    const int K = n / 2 + 1;
    const std::int64_t B = to_hops(cfg.block_s, sr, hop, 4);
    const std::int64_t X = std::min<std::int64_t>(to_hops(cfg.crossfade_s, sr, hop, 1), B / 2);
    const std::int64_t ctx = to_hops(cfg.context_s, sr, hop, 4);
    const std::int64_t total_frames = (N - 1) / hop + 2;  // frames centred at t*hop cover [0, N)
    const int w_h = odd_at_least_1(cfg.harmonic_median_s * sr / hop);
    const int w_p = odd_at_least_1(cfg.percussive_median_hz * n / sr);
    const int w_v = odd_at_least_1(cfg.vocal_median_s * sr / hop);
    const int k_vocal_max = std::min(K, static_cast<int>(std::ceil(cfg.vocal_high_hz * 2.0 * n / sr)) + 1);

    const std::vector<float> win = dsp::make_window(dsp::Window::kHann, n);
    dsp::RealFft fft(n);
    std::vector<float> frame(static_cast<std::size_t>(n));
    std::vector<cfloat> bins(static_cast<std::size_t>(K));

    // Frequency weights: bass low-pass, voice band-pass.
    std::vector<float> lp(static_cast<std::size_t>(K)), band(static_cast<std::size_t>(K));
    for (int k = 0; k < K; ++k) {
        const double f = static_cast<double>(k) * sr / n;
        lp[static_cast<std::size_t>(k)] = static_cast<float>(1.0 / (1.0 + std::pow(f / cfg.bass_cutoff_hz, 6.0)));
        const double hp = f <= 0.0 ? 0.0 : 1.0 / (1.0 + std::pow(cfg.vocal_low_hz / f, 4.0));
        band[static_cast<std::size_t>(k)] = static_cast<float>(hp / (1.0 + std::pow(f / cfg.vocal_high_hz, 4.0)));
    }

    std::array<std::vector<float>, 4> prev_tail;  // the previous block's output past its end (crossfade)
    std::vector<float> scratch;
    for (std::int64_t a = 0; a < N; a += B) {
        if (stop.stop_requested()) return make_error(ErrorCode::kCancelled, "cancelled");
        const bool last = a + B >= N;
        const std::int64_t out_end = last ? N : std::min(N, a + B + X);
        const std::int64_t out_len = out_end - a;
        // Frames analysed: the output region plus the context on both sides, on the global grid.
        const std::int64_t f0 = std::max<std::int64_t>(0, (a - ctx) / hop);
        const std::int64_t f1 = std::min(total_frames, (out_end + ctx) / hop + 1);
        const auto T = static_cast<std::size_t>(f1 - f0);
        // Complex spectra [c][t][k] and the channels' RMS magnitude, bin-major [k][t].
        std::vector<cfloat> spec(static_cast<std::size_t>(C) * T * static_cast<std::size_t>(K));
        std::vector<float> mag(static_cast<std::size_t>(K) * T, 0.0f);
        for (int c = 0; c < C; ++c)
            for (std::size_t t = 0; t < T; ++t) {
                const std::int64_t start = (f0 + static_cast<std::int64_t>(t)) * hop - n / 2;
                for (int j = 0; j < n; ++j) {
                    const std::int64_t i = start + j;
                    const float x = (i >= 0 && i < N) ? mix.samples[static_cast<std::size_t>(i * C + c)] : 0.0f;
                    frame[static_cast<std::size_t>(j)] = x * win[static_cast<std::size_t>(j)];
                }
                fft.forward(frame, bins);
                cfloat* dst = &spec[(static_cast<std::size_t>(c) * T + t) * static_cast<std::size_t>(K)];
                for (int k = 0; k < K; ++k) {
                    dst[k] = bins[static_cast<std::size_t>(k)];
                    mag[static_cast<std::size_t>(k) * T + t] += std::norm(bins[static_cast<std::size_t>(k)]) / C;
                }
            }
        for (auto& m : mag) m = std::sqrt(m);
        // Classical: harmonic = median along time, percussive = median along frequency, the
        // stationary part of the harmonic share = a long time median (voice band only). Learned:
        // the model's masks for every frame.
        std::vector<float> harm, perc, stat, learned;
        if (cfg.model != nullptr) cfg.model->masks(mag, T, K, sr, n, learned);
        const bool classical = cfg.model == nullptr || cfg.model_vocals_only;
        if (classical) {
            harm.resize(mag.size());
            perc.resize(mag.size());
            stat.resize(static_cast<std::size_t>(k_vocal_max) * T);
            for (int k = 0; k < K; ++k)
                sliding_median(&mag[static_cast<std::size_t>(k) * T], &harm[static_cast<std::size_t>(k) * T], T, w_h,
                               scratch);
            std::vector<float> col(static_cast<std::size_t>(K)), med(static_cast<std::size_t>(K));
            for (std::size_t t = 0; t < T; ++t) {
                for (int k = 0; k < K; ++k) col[static_cast<std::size_t>(k)] = mag[static_cast<std::size_t>(k) * T + t];
                sliding_median(col.data(), med.data(), static_cast<std::size_t>(K), w_p, scratch);
                for (int k = 0; k < K; ++k)
                    perc[static_cast<std::size_t>(k) * T + t] = med[static_cast<std::size_t>(k)];
            }
            for (int k = 0; k < k_vocal_max; ++k)
                sliding_median(&harm[static_cast<std::size_t>(k) * T], &stat[static_cast<std::size_t>(k) * T], T, w_v,
                               scratch);
        }
        if (progress) progress((static_cast<double>(a) + 0.5 * static_cast<double>(out_len)) / static_cast<double>(N));

        // Masks of vocals, drums, bass (other is the rest); overlap-add of the frames that reach
        // the output region.
        std::array<std::vector<float>, 3> out;
        for (auto& o : out) o.assign(static_cast<std::size_t>(out_len) * static_cast<std::size_t>(C), 0.0f);
        std::vector<float> wss(static_cast<std::size_t>(out_len), 0.0f);
        std::array<std::vector<float>, 3> mask;
        for (auto& m : mask) m.resize(static_cast<std::size_t>(K));
        constexpr float kEps = 1e-12f;
        for (std::size_t t = 0; t < T; ++t) {
            const std::int64_t start = (f0 + static_cast<std::int64_t>(t)) * hop - n / 2;
            if (start + n <= a || start >= out_end) continue;
            if (!learned.empty()) {
                const float* lm = &learned[t * 4 * static_cast<std::size_t>(K)];
                for (std::size_t s = 0; s < 3; ++s)
                    std::copy_n(lm + s * static_cast<std::size_t>(K), K, mask[s].begin());
            }
            for (int k = 0; classical && k < K; ++k) {
                const std::size_t i = static_cast<std::size_t>(k) * T + t;
                const float h2 = harm[i] * harm[i], p2 = perc[i] * perc[i];
                const float mh = h2 / (h2 + p2 + kEps);
                const float l = lp[static_cast<std::size_t>(k)];
                float vs = 0.0f;
                if (k < k_vocal_max) {
                    const float s = stat[i];
                    const float v = std::max(0.0f, harm[i] - s);
                    vs = v * v / (v * v + s * s + kEps) * band[static_cast<std::size_t>(k)];
                }
                mask[0][static_cast<std::size_t>(k)] = mh * (1.0f - l) * vs;  // vocals
                mask[1][static_cast<std::size_t>(k)] = 1.0f - mh;             // drums
                mask[2][static_cast<std::size_t>(k)] = mh * l;                // bass
                if (!learned.empty()) {  // the model's vocals, the classical split of the rest
                    const float v = learned[t * 4 * static_cast<std::size_t>(K) + static_cast<std::size_t>(k)];
                    mask[0][static_cast<std::size_t>(k)] = v;
                    mask[1][static_cast<std::size_t>(k)] *= 1.0f - v;
                    mask[2][static_cast<std::size_t>(k)] *= 1.0f - v;
                }
            }
            const std::int64_t centre = start + n / 2;
            if (stats != nullptr && centre >= a && centre < (last ? out_end : a + B))
                for (int k = 0; k < K; ++k) {
                    const auto q = static_cast<std::size_t>(k);
                    const double e = static_cast<double>(mag[q * T + t]) * mag[q * T + t];
                    const double m3 = std::max(0.0f, 1.0f - mask[0][q] - mask[1][q] - mask[2][q]);
                    for (std::size_t s = 0; s < 4; ++s) {
                        const double m = s < 3 ? mask[s][q] : m3;
                        stats->mask_energy[s] += m * e;
                        stats->mask2_energy[s] += m * m * e;
                    }
                }
            for (int j = 0; j < n; ++j) {
                const std::int64_t i = start + j;
                if (i >= a && i < out_end) {
                    const float w = win[static_cast<std::size_t>(j)];
                    wss[static_cast<std::size_t>(i - a)] += w * w;
                }
            }
            for (int s = 0; s < 3; ++s)
                for (int c = 0; c < C; ++c) {
                    const cfloat* src = &spec[(static_cast<std::size_t>(c) * T + t) * static_cast<std::size_t>(K)];
                    for (int k = 0; k < K; ++k)
                        bins[static_cast<std::size_t>(k)] =
                            src[k] * mask[static_cast<std::size_t>(s)][static_cast<std::size_t>(k)];
                    fft.inverse(bins, frame);
                    auto& o = out[static_cast<std::size_t>(s)];
                    for (int j = 0; j < n; ++j) {
                        const std::int64_t i = start + j;
                        if (i < a || i >= out_end) continue;
                        o[static_cast<std::size_t>((i - a) * C + c)] += frame[static_cast<std::size_t>(j)] *
                                                                        win[static_cast<std::size_t>(j)] /
                                                                        static_cast<float>(n);
                    }
                }
        }
        for (auto& o : out)
            for (std::int64_t i = 0; i < out_len; ++i) {
                const float d = wss[static_cast<std::size_t>(i)];
                for (int c = 0; c < C; ++c)
                    o[static_cast<std::size_t>(i * C + c)] =
                        d > 1e-8f ? o[static_cast<std::size_t>(i * C + c)] / d : 0.0f;
            }
        // Crossfade the start with the previous block's tail (raised cosine), then emit
        // [a, a + B) (the whole rest on the last block) and keep what lies beyond for the next.
        const std::int64_t fade = a == 0 ? 0 : std::min<std::int64_t>(X, out_len);
        for (int s = 0; s < 3; ++s) {
            auto& o = out[static_cast<std::size_t>(s)];
            const auto& tail = prev_tail[static_cast<std::size_t>(s)];
            for (std::int64_t i = 0; i < fade; ++i) {
                const double r =
                    0.5 - 0.5 * std::cos(std::numbers::pi * (static_cast<double>(i) + 0.5) / static_cast<double>(X));
                for (int c = 0; c < C; ++c) {
                    const auto q = static_cast<std::size_t>(i * C + c);
                    o[q] = static_cast<float>((1.0 - r) * tail[q] + r * o[q]);
                }
            }
        }
        const std::int64_t emit = last ? out_len : B;
        std::array<std::vector<float>, 4> stems;
        for (int s = 0; s < 3; ++s) {
            auto& o = out[static_cast<std::size_t>(s)];
            prev_tail[static_cast<std::size_t>(s)].assign(o.begin() + emit * C, o.end());
            o.resize(static_cast<std::size_t>(emit * C));
            stems[static_cast<std::size_t>(s)] = std::move(o);
        }
        // other = mix - vocals - drums - bass: the four sum to the mix exactly.
        auto& other = stems[3];
        other.resize(static_cast<std::size_t>(emit * C));
        for (std::int64_t i = 0; i < emit * C; ++i) {
            const auto q = static_cast<std::size_t>(i);
            other[q] = mix.samples[static_cast<std::size_t>(a * C) + q] - stems[0][q] - stems[1][q] - stems[2][q];
        }
        if (auto r = sink(a, stems, static_cast<std::size_t>(emit)); !r) return r.error();
        if (progress) progress(static_cast<double>(a + emit) / static_cast<double>(N));
    }
    return {};
}

}  // namespace harmony::analyzers::stems
