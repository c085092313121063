#include "analyzers/sections/structure.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "analyzers/sections/boundary_model.inc"

namespace harmony::sections {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

/// Beat-level similarity in [0, 1]: chroma cosine blended with timbre and level closeness.
class Similarity {
public:
    Similarity(const BeatFeatures& f, double chroma_weight) : f_(f), wc_(chroma_weight) {}
    double beat(size_t i, size_t j) const {
        const auto& a = f_.chroma[i];
        const auto& b = f_.chroma[j];
        double c = 0.0;
        for (size_t k = 0; k < 12; ++k) c += static_cast<double>(a[k]) * b[k];
        const auto& x = f_.timbre[i];
        const auto& y = f_.timbre[j];
        double d2 = 0.0;
        for (size_t k = 0; k < 12; ++k) {
            const double d = static_cast<double>(x[k]) - y[k];
            d2 += d * d;
        }
        const double dl = (static_cast<double>(f_.level_db[i]) - f_.level_db[j]) / 6.0;
        return wc_ * c + (1.0 - wc_) * std::exp(-d2 / 24.0 - dl * dl);
    }

private:
    const BeatFeatures& f_;
    double wc_;
};

struct Bars {
    std::vector<size_t> first;  // first beat of each bar; first.back() is the end (n beats)
    std::vector<int> whole;     // prefix count of whole bars (a lead-in or a short pickup is not one)
    size_t size() const { return first.size() - 1; }
    int whole_bars(size_t a, size_t b) const { return whole[b] - whole[a]; }
    size_t beats(size_t b) const { return first[b + 1] - first[b]; }
};

Bars make_bars(const BeatFeatures& f) {
    Bars bars;
    const size_t n = f.size();
    bars.first.push_back(0);
    for (size_t i = 1; i < n; ++i)
        if (f.positions[i] == 1) bars.first.push_back(i);
    bars.first.push_back(n);
    // Whole bars: at least half the median number of metrical beats (position > 0; the lead-in
    // before the first beat and the tail after the last one have position 0).
    std::vector<size_t> counts;
    for (size_t b = 0; b + 1 < bars.first.size(); ++b) {
        size_t c = 0;
        for (size_t i = bars.first[b]; i < bars.first[b + 1]; ++i) c += f.positions[i] > 0 ? 1 : 0;
        counts.push_back(c);
    }
    std::vector<size_t> sorted = counts;
    std::sort(sorted.begin(), sorted.end());
    const size_t median = sorted.empty() ? 1 : sorted[sorted.size() / 2];
    bars.whole.push_back(0);
    for (size_t c : counts) bars.whole.push_back(bars.whole.back() + (2 * c >= std::max<size_t>(1, median) ? 1 : 0));
    return bars;
}

/// Aligned similarity of bars i and j: beat k of one against beat k of the other.
double bar_sim(const Similarity& s, const Bars& bars, size_t i, size_t j) {
    const size_t n = std::min(bars.beats(i), bars.beats(j));
    if (n == 0) return 0.0;
    double acc = 0.0;
    for (size_t k = 0; k < n; ++k) acc += s.beat(bars.first[i] + k, bars.first[j] + k);
    return acc / static_cast<double>(n);
}

/// Similarity of every bar with the bars up to max_lag after it: band[i][l] = S(i, i + l).
std::vector<std::vector<float>> bar_band(const Similarity& s, const Bars& bars, size_t max_lag) {
    const size_t n = bars.size();
    std::vector<std::vector<float>> band(n);
    for (size_t i = 0; i < n; ++i) {
        const size_t m = std::min(max_lag, n - 1 - i);
        band[i].resize(m + 1);
        for (size_t l = 0; l <= m; ++l) band[i][l] = static_cast<float>(bar_sim(s, bars, i, i + l));
    }
    return band;
}

double band_at(const std::vector<std::vector<float>>& band, size_t i, size_t j) {
    if (j < i) std::swap(i, j);
    const size_t l = j - i;
    return l < band[i].size() ? band[i][l] : 0.0;
}

/// Scales a novelty curve so its 95th percentile is 1 (clipped at 1.5): comparable across files.
void normalise(std::vector<double>& v) {
    if (v.empty()) return;
    std::vector<double> s = v;
    const size_t q = static_cast<size_t>(0.95 * static_cast<double>(s.size() - 1));
    std::nth_element(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(q), s.end());
    const double scale = s[q] > 1e-9 ? s[q] : 1.0;
    for (auto& x : v) x = std::clamp(x / scale, 0.0, 1.5);
}

/// Foote's checkerboard novelty at each bar boundary b (between bar b-1 and bar b), Gaussian
/// tapered kernel of half-width k bars, normalised by the weights inside the file.
std::vector<double> checkerboard(const std::vector<std::vector<float>>& band, size_t n, int k) {
    std::vector<double> nov(n + 1, 0.0);
    const double sigma = 0.5 * k;
    for (size_t b = 1; b < n; ++b) {
        double acc = 0.0, wsum = 0.0;
        for (int x = -k; x < k; ++x)
            for (int y = -k; y < k; ++y) {
                const long i = static_cast<long>(b) + x, j = static_cast<long>(b) + y;
                if (i < 0 || j < 0 || i >= static_cast<long>(n) || j >= static_cast<long>(n)) continue;
                const double gx = x < 0 ? x + 0.5 : x + 0.5;
                const double gy = y < 0 ? y + 0.5 : y + 0.5;
                const double w = std::exp(-0.5 * (gx * gx + gy * gy) / (sigma * sigma));
                const double sign = ((x < 0) == (y < 0)) ? 1.0 : -1.0;
                acc += sign * w * band_at(band, static_cast<size_t>(i), static_cast<size_t>(j));
                wsum += w;
            }
        nov[b] = wsum > 0 ? std::max(0.0, acc / wsum) : 0.0;
    }
    return nov;
}

/// Repetition-lag matrix (after Serrà et al.'s structural features, band-limited): each bar's
/// mutual-nearest-neighbour recurrences at lags -L..L (lags 0 and +-1 left out), n x (2L+1).
std::vector<float> lag_matrix(const std::vector<std::vector<float>>& band, size_t n, size_t max_lag) {
    const size_t width = 2 * max_lag + 1;
    std::vector<float> lag(n * width, 0.0f);  // bounded by the band
    if (n < 4) return lag;
    // No delay embedding: bars are already beat-stacked (a 2-bar embedding scored lower on dev).
    auto emb = [&](size_t i, size_t j) { return band_at(band, i, j); };
    // Threshold per bar: its k-th largest similarity at lags >= 2.
    std::vector<double> theta(n, 1e9);
    std::vector<double> row;
    for (size_t i = 0; i < n; ++i) {
        row.clear();
        for (size_t l = 2; l <= max_lag; ++l) {
            if (i + l < n) row.push_back(emb(i, i + l));
            if (i >= l) row.push_back(emb(i, i - l));
        }
        if (row.empty()) continue;
        const size_t k = std::min(row.size() - 1, std::max<size_t>(1, static_cast<size_t>(0.1 * row.size())));
        std::nth_element(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(k), row.end(), std::greater<>());
        theta[i] = row[k];
    }
    for (size_t i = 0; i < n; ++i)
        for (size_t l = 2; l <= max_lag; ++l)
            for (int dir : {-1, 1}) {
                if (dir < 0 && i < l) continue;
                const size_t j = dir > 0 ? i + l : i - l;
                if (j >= n) continue;
                const double e = emb(i, j);
                if (e >= theta[i] && e >= theta[j])
                    lag[i * width + static_cast<size_t>(static_cast<long>(max_lag) + dir * static_cast<long>(l))] =
                        static_cast<float>(e);
            }
    return lag;
}

/// Repetition-lag novelty: at each bar line, how much the lag pattern of the w bars before differs
/// from that of the w bars after.
std::vector<double> lag_novelty(const std::vector<float>& lag, size_t n, size_t max_lag, size_t w) {
    std::vector<double> nov(n + 1, 0.0);
    if (n < 4) return nov;
    const size_t width = 2 * max_lag + 1;
    for (size_t b = 1; b < n; ++b) {
        const size_t a0 = b >= w ? b - w : 0, a1 = std::min(n, b + w);
        double d2 = 0.0;
        for (size_t l = 0; l < width; ++l) {
            double before = 0.0, after = 0.0;
            for (size_t i = a0; i < b; ++i) before += lag[i * width + l];
            for (size_t i = b; i < a1; ++i) after += lag[i * width + l];
            const double d = before / static_cast<double>(b - a0) - after / static_cast<double>(a1 - b);
            d2 += d * d;
        }
        nov[b] = std::sqrt(d2);
    }
    return nov;
}

/// Repetition stripes: at bar line b, the strongest diagonal stripe of the bar similarity that
/// starts there (bars b..b+3 repeat bars j..j+3 while bars b-2..b-1 do not repeat j-2..j-1) and
/// the strongest that ends there (the mirror image). Similarities are z-scores of the file.
std::pair<std::vector<double>, std::vector<double>> stripes(const std::vector<std::vector<float>>& band, size_t n,
                                                            size_t max_lag, double mu, double sd) {
    std::vector<double> start(n + 1, 0.0), end(n + 1, 0.0);
    auto z = [&](size_t i, size_t j) { return (band_at(band, i, j) - mu) / sd; };
    // Mean z of S(b + k, j + k) for k in [k0, k1), inside the file; mu's z (0) when empty.
    auto run = [&](long b, long j, long k0, long k1) {
        double acc = 0.0;
        int cnt = 0;
        for (long k = k0; k < k1; ++k) {
            const long x = b + k, y = j + k;
            if (x < 0 || y < 0 || x >= static_cast<long>(n) || y >= static_cast<long>(n)) continue;
            acc += z(static_cast<size_t>(x), static_cast<size_t>(y));
            ++cnt;
        }
        return cnt ? acc / cnt : 0.0;
    };
    for (size_t b = 1; b < n; ++b) {
        double bs = 0.0, be = 0.0;
        for (size_t l = 2; l <= max_lag; ++l)
            for (int dir : {-1, 1}) {
                const long j = static_cast<long>(b) + dir * static_cast<long>(l);
                if (j < 0 || j >= static_cast<long>(n)) continue;
                const long bl = static_cast<long>(b);
                bs = std::max(bs, run(bl, j, 0, 4) - std::max(0.0, run(bl, j, -2, 0)));
                be = std::max(be, run(bl, j, -4, 0) - std::max(0.0, run(bl, j, 0, 2)));
            }
        start[b] = bs;
        end[b] = be;
    }
    return {start, end};
}

/// Repetition profiles at bar line b: for the lag whose 4 bars from b on repeat best (and, second,
/// for the lag whose 4 bars before b repeat best), the z-scored bar similarity S(b + k, j + k) for
/// k = -3..4 (-4..3 for the second): where the repetition starts or stops around the bar line.
/// Zero outside the file.
void repetition_profiles(const std::vector<std::vector<float>>& band, size_t n, size_t max_lag, double mu, double sd,
                         size_t b, float* start_profile, float* end_profile, float* lags) {
    auto z = [&](long x, long y) {
        if (x < 0 || y < 0 || x >= static_cast<long>(n) || y >= static_cast<long>(n)) return 0.0;
        return (band_at(band, static_cast<size_t>(x), static_cast<size_t>(y)) - mu) / sd;
    };
    const long bl = static_cast<long>(b);
    double best_start = -1e9, best_end = -1e9;
    long j_start = -1, j_end = -1;
    for (size_t l = 2; l <= max_lag; ++l)
        for (int dir : {-1, 1}) {
            const long j = bl + dir * static_cast<long>(l);
            if (j < 0 || j >= static_cast<long>(n)) continue;
            double a = 0.0, e = 0.0;
            for (long k = 0; k < 4; ++k) a += z(bl + k, j + k), e += z(bl - 1 - k, j - 1 - k);
            if (a > best_start) best_start = a, j_start = j;
            if (e > best_end) best_end = e, j_end = j;
        }
    lags[0] = j_start < 0 ? 0.0f : static_cast<float>(j_start - bl);
    lags[1] = j_end < 0 ? 0.0f : static_cast<float>(j_end - bl);
    for (long k = 0; k < 8; ++k) {
        start_profile[k] =
            j_start < 0 ? 0.0f : static_cast<float>(std::clamp(z(bl - 3 + k, j_start - 3 + k), -4.0, 4.0));
        end_profile[k] = j_end < 0 ? 0.0f : static_cast<float>(std::clamp(z(bl - 4 + k, j_end - 4 + k), -4.0, 4.0));
    }
}

/// Mean and standard deviation (at least 1e-6) of a series; {0, 1} when it is empty.
std::pair<double, double> mean_sd(const std::vector<double>& v) {
    if (v.empty()) return {0.0, 1.0};
    double s = 0.0, s2 = 0.0;
    for (double x : v) s += x, s2 += x * x;
    const double m = s / static_cast<double>(v.size());
    return {m, std::max(1e-6, std::sqrt(std::max(0.0, s2 / static_cast<double>(v.size()) - m * m)))};
}

/// Level of beats [a, b) in dB (mean power).
double range_db(const BeatFeatures& f, size_t a, size_t b) {
    if (b <= a) return -120.0;
    double p = 0.0;
    for (size_t i = a; i < b; ++i) p += std::pow(10.0, f.level_db[i] / 10.0);
    return 10.0 * std::log10(p / static_cast<double>(b - a) + 1e-12);
}

/// Features of every bar line 1..n-1 (index b-1) for the learned boundary model: checkerboard
/// novelty at 2, 4 and 8 bars; repetition-lag novelty over 1, 2 and 4 bars; repetition stripes
/// starting and ending there; the level change, the level of the beat before and the beat after
/// (a rest before a phrase); how unlike its neighbour bar b is; how much the lag novelty, the
/// checkerboard and the stripe start stand out of their neighbours; the distance to the file's
/// start and end; the tonal closure of the bars after and before (closeness to the file's pitch
/// profile); the onset flux of the beats after and before; the beat-level dissimilarity across the
/// bar line; the file's median bar length; the repetition profiles around the bar line
/// (repetition_profiles).
std::vector<BarLineFeatures> bar_line_features(const BeatFeatures& f, const Similarity& sim, const Bars& bars,
                                               const std::vector<std::vector<float>>& band, size_t max_lag, double mu,
                                               double sd) {
    const size_t nb = bars.size();
    std::vector<BarLineFeatures> out;
    if (nb < 2) return out;
    auto cn2 = checkerboard(band, nb, 2), cn4 = checkerboard(band, nb, 4), cn8 = checkerboard(band, nb, 8);
    for (auto* v : {&cn2, &cn4, &cn8}) normalise(*v);
    const auto lag = lag_matrix(band, nb, max_lag);
    auto ln1 = lag_novelty(lag, nb, max_lag, 1), ln2 = lag_novelty(lag, nb, max_lag, 2),
         ln4 = lag_novelty(lag, nb, max_lag, 4);
    for (auto* v : {&ln1, &ln2, &ln4}) normalise(*v);
    auto [ss, se] = stripes(band, nb, max_lag, mu, sd);
    std::vector<float> sorted = f.level_db;
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2), sorted.end());
    const double median_db = sorted[sorted.size() / 2];
    double adj_mean = 0.0;
    for (size_t b = 1; b < nb; ++b) adj_mean += band_at(band, b - 1, b);
    adj_mean /= static_cast<double>(nb - 1);
    // Tonal closure: how close each bar's pitch classes are to the file's overall profile (a
    // phrase tends to end on and start from the tonic), z-scored over the bars.
    std::array<double, 12> global{};
    for (const auto& c : f.chroma)
        for (size_t k = 0; k < 12; ++k) global[k] += c[k];
    std::vector<double> tonal(nb, 0.0);
    for (size_t b = 0; b < nb; ++b) {
        std::array<double, 12> c{};
        for (size_t i = bars.first[b]; i < bars.first[b + 1]; ++i)
            for (size_t k = 0; k < 12; ++k) c[k] += f.chroma[i][k];
        double dot = 0.0, na = 0.0, ng = 0.0;
        for (size_t k = 0; k < 12; ++k) dot += c[k] * global[k], na += c[k] * c[k], ng += global[k] * global[k];
        tonal[b] = na > 0 && ng > 0 ? dot / std::sqrt(na * ng) : 0.0;
    }
    const auto [tonal_mu, tonal_sd] = mean_sd(tonal);
    // Onsets: a phrase often starts with fresh notes after a rest. Flux relative to the file's median.
    double flux_median = 1.0;
    if (f.flux.size() == f.size() && !f.flux.empty()) {
        std::vector<float> fl = f.flux;
        std::nth_element(fl.begin(), fl.begin() + static_cast<std::ptrdiff_t>(fl.size() / 2), fl.end());
        flux_median = std::max(1e-3, static_cast<double>(fl[fl.size() / 2]));
    }
    auto flux_at = [&](size_t i) {
        return i < f.flux.size() ? std::clamp(static_cast<double>(f.flux[i]) / flux_median, 0.0, 4.0) : 1.0;
    };
    // Beat-level continuity across the bar line, against the file's adjacent-beat similarity.
    std::vector<double> adj_beat;
    for (size_t i = 1; i < f.size(); ++i) adj_beat.push_back(sim.beat(i - 1, i));
    const auto [beat_mu, beat_sd] = mean_sd(adj_beat);
    // Tempo context: the median bar length in seconds.
    std::vector<double> bar_s;
    for (size_t b = 0; b < nb; ++b) bar_s.push_back(f.times[bars.first[b + 1]] - f.times[bars.first[b]]);
    std::nth_element(bar_s.begin(), bar_s.begin() + static_cast<std::ptrdiff_t>(bar_s.size() / 2), bar_s.end());
    const double median_bar_s = bar_s[bar_s.size() / 2];
    auto peak = [&](const std::vector<double>& v, size_t b) {
        return v[b] - std::max(b > 1 ? v[b - 1] : 0.0, b + 1 < nb ? v[b + 1] : 0.0);
    };
    for (size_t b = 1; b < nb; ++b) {
        const size_t x = bars.first[b];
        const size_t before0 = bars.first[b >= 2 ? b - 2 : 0], after1 = bars.first[std::min(nb, b + 2)];
        BarLineFeatures v{};
        v[0] = static_cast<float>(cn2[b]);
        v[1] = static_cast<float>(cn4[b]);
        v[2] = static_cast<float>(cn8[b]);
        v[3] = static_cast<float>(ln1[b]);
        v[4] = static_cast<float>(ln2[b]);
        v[5] = static_cast<float>(ln4[b]);
        v[6] = static_cast<float>(std::min(ss[b], 6.0));
        v[7] = static_cast<float>(std::min(se[b], 6.0));
        v[8] = static_cast<float>(std::clamp((range_db(f, x, after1) - range_db(f, before0, x)) / 6.0, -3.0, 3.0));
        v[9] = static_cast<float>(std::clamp((range_db(f, x - 1, x) - median_db) / 10.0, -3.0, 1.0));
        v[10] = static_cast<float>(std::clamp((range_db(f, x, x + 1) - median_db) / 10.0, -3.0, 1.0));
        v[11] = static_cast<float>(std::clamp((adj_mean - band_at(band, b - 1, b)) / sd, -4.0, 4.0));
        v[12] = static_cast<float>(peak(ln2, b));
        v[13] = static_cast<float>(peak(cn4, b));
        v[14] = static_cast<float>(std::clamp(peak(ss, b), -6.0, 6.0));
        v[15] = static_cast<float>(std::min<size_t>(b, 16)) / 16.0f;
        v[16] = static_cast<float>(std::min<size_t>(nb - b, 16)) / 16.0f;
        v[17] = static_cast<float>(std::clamp((tonal[b] - tonal_mu) / tonal_sd, -4.0, 4.0));
        v[18] = static_cast<float>(std::clamp((tonal[b - 1] - tonal_mu) / tonal_sd, -4.0, 4.0));
        v[19] = static_cast<float>(flux_at(x));
        v[20] = static_cast<float>(flux_at(x - 1));
        v[21] = static_cast<float>(std::clamp((beat_mu - sim.beat(x - 1, x)) / beat_sd, -4.0, 4.0));
        v[22] = static_cast<float>(std::clamp(median_bar_s / 4.0, 0.0, 3.0));
        repetition_profiles(band, nb, max_lag, mu, sd, b, &v[23], &v[31], &v[39]);
        out.push_back(v);
    }
    return out;
}

/// Boundary log-odds of bar line i (index into lines) from the learned model (boundary_model.inc):
/// the kBoundaryInputs features kBoundaryFeatureIndex of the bar line and of its kBoundaryContext
/// neighbours on each side (zeros beyond the file), standardised, through a small multilayer perceptron (tanh
/// hidden layer) or a logistic regression.
double boundary_logit(const std::vector<BarLineFeatures>& lines, size_t i) {
    constexpr size_t K = static_cast<size_t>(kBoundaryInputs);
    constexpr long C = kBoundaryContext;
    static_assert(kBoundaryFeatureIndex.size() == K, "one index per model input");
    static_assert(
        [] {
            for (int c : kBoundaryFeatureIndex)
                if (c < 0 || c >= kBarLineFeatures) return false;
            return true;
        }(),
        "the model reads dumped bar-line features");
    static_assert(kBoundaryMean.size() == static_cast<size_t>(2 * C + 1) * K,
                  "the model reads a bar line and its neighbours");
    std::array<double, kBoundaryMean.size()> x{};
    // Order: the bar line itself, then offsets -1, +1, -2, +2, ...
    for (long slot = 0; slot < 2 * C + 1; ++slot) {
        const long off = slot == 0 ? 0 : ((slot + 1) / 2) * (slot % 2 == 1 ? -1 : 1);
        const long j = static_cast<long>(i) + off;
        if (j < 0 || j >= static_cast<long>(lines.size())) continue;
        for (size_t k = 0; k < K; ++k)
            x[static_cast<size_t>(slot) * K + k] =
                lines[static_cast<size_t>(j)][static_cast<size_t>(kBoundaryFeatureIndex[k])];
    }
    for (size_t k = 0; k < x.size(); ++k) x[k] = (x[k] - kBoundaryMean[k]) / kBoundaryScale[k];
    double z = kBoundaryOutBias;
    if constexpr (kBoundaryHidden == 0) {
        for (size_t k = 0; k < x.size(); ++k) z += kBoundaryW1[k] * x[k];
    } else {
        for (size_t h = 0; h < static_cast<size_t>(kBoundaryHidden); ++h) {
            double a = kBoundaryB1[h];
            for (size_t k = 0; k < x.size(); ++k) a += kBoundaryW1[h * x.size() + k] * x[k];
            z += kBoundaryW2[h] * std::tanh(a);
        }
    }
    return z;
}

/// Stage 2 of the boundary model: a logistic regression on the stage-1 log-odds (index = bar line
/// - 1) of the bar line, of its neighbours, of the bar lines where its best repetitions start and
/// end (lags in its features 39 and 40: boundaries recur with the material they bound) and the
/// strongest within +-1 bar of 4 and 8 bars before and after (stack_features in train.py).
std::vector<double> stack_logits(const std::vector<double>& stage1, const std::vector<BarLineFeatures>& lines) {
    static_assert(kStackWeights.size() == 9, "stage-2 inputs: see stack_features in train.py");
    const long n = static_cast<long>(stage1.size());
    auto at = [&](long k) { return k >= 0 && k < n ? stage1[static_cast<size_t>(k)] : kStackFill; };
    auto best3 = [&](long k) { return std::max({at(k - 1), at(k), at(k + 1)}); };
    std::vector<double> out(stage1.size());
    for (long i = 0; i < n; ++i) {
        const auto& v = lines[static_cast<size_t>(i)];
        const long ls = std::lround(v[39]), le = std::lround(v[40]);
        const std::array<double, 9> x = {at(i),
                                         at(i - 1),
                                         at(i + 1),
                                         ls == 0 ? kStackFill : at(i + ls),
                                         le == 0 ? kStackFill : at(i + le),
                                         best3(i - 4),
                                         best3(i + 4),
                                         best3(i - 8),
                                         best3(i + 8)};
        double z = kStackBias;
        for (size_t k = 0; k < x.size(); ++k) z += kStackWeights[k] * x[k];
        out[static_cast<size_t>(i)] = z;
    }
    return out;
}

/// Phrase boundaries (bar indices, 0 and n included) maximising the boundary log-odds of the cut
/// bar lines plus the learned log-prior of the phrase lengths (inner phrases; the first and the
/// last phrase of an excerpt may be cut anywhere, so theirs is flat).
std::vector<size_t> learned_dp(const std::vector<double>& logit, const Bars& bars, const Params& p) {
    const size_t n = bars.size();
    std::vector<double> best(n + 1, kNegInf);
    std::vector<size_t> from(n + 1, 0);
    best[0] = 0.0;
    const size_t lmax =
        std::min<size_t>(static_cast<size_t>(std::max(1, p.max_phrase_bars)), kPhraseLengthLogPrior.size() - 1);
    for (size_t b = 1; b <= n; ++b) {
        const double gain = b < n ? logit[b] + p.boundary_bias : 0.0;
        const size_t reach = (b == n) ? b : std::min(lmax, b);  // the last phrase may be any length
        for (size_t l = 1; l <= reach; ++l) {
            const size_t a = b - l;
            if (best[a] == kNegInf) continue;
            const int whole = bars.whole_bars(a, b);
            double prior;
            if (a == 0 || b == n)
                prior = kEdgeLengthLogPrior[static_cast<size_t>(std::clamp(whole, 0, 32))];
            else
                prior = whole <= 0 ? kPhraseLengthLogPrior[1] : kPhraseLengthLogPrior[static_cast<size_t>(whole)];
            const double v = best[a] + prior + gain;
            if (v > best[b]) {
                best[b] = v;
                from[b] = a;
            }
        }
        // The first phrase may also be any length (an excerpt starts anywhere).
        if (b > lmax && b < n && best[0] != kNegInf) {
            const double v = kEdgeLengthLogPrior[32] + gain;
            if (v > best[b]) best[b] = v, from[b] = 0;
        }
    }
    std::vector<size_t> cuts;
    for (size_t b = n; b > 0; b = from[b]) cuts.push_back(b);
    cuts.push_back(0);
    std::reverse(cuts.begin(), cuts.end());
    return cuts;
}

/// Log-prior of a phrase of `bars` bars (pop phrasing: 4 and 8 bars, then 2, 6, 12, 16).
double length_prior(int bars) {
    switch (bars) {
        case 4:
        case 8:
            return 0.0;
        case 2:
        case 6:
        case 12:
        case 16:
            return -0.5;
        case 1:
        case 3:
        case 5:
        case 7:
            return -0.9;
        default:
            return -1.0 - 0.02 * std::max(0, bars - 16);
    }
}

/// Phrase boundaries (bar indices, 0 and n included) maximising novelty minus a penalty per
/// boundary plus the phrase-length prior.
std::vector<size_t> phrase_dp(const std::vector<double>& score, const Bars& bars, const Params& p) {
    const size_t n = bars.size();
    std::vector<double> best(n + 1, kNegInf);
    std::vector<size_t> from(n + 1, 0);
    best[0] = 0.0;
    const size_t lmax = static_cast<size_t>(std::max(1, p.max_phrase_bars));
    for (size_t b = 1; b <= n; ++b) {
        const double gain = b < n ? score[b] - p.boundary_penalty : 0.0;
        for (size_t l = 1; l <= std::min(lmax, b); ++l) {
            const size_t a = b - l;
            if (best[a] == kNegInf) continue;
            const int whole = bars.whole_bars(a, b);
            double prior = whole == 0 ? -0.3 : length_prior(whole);
            if (a == 0 || b == n) prior *= 0.5;  // excerpts and pickups cut phrases at the edges
            const double v = best[a] + prior + gain;
            if (v > best[b]) {
                best[b] = v;
                from[b] = a;
            }
        }
    }
    std::vector<size_t> cuts;
    for (size_t b = n; b > 0; b = from[b]) cuts.push_back(b);
    cuts.push_back(0);
    std::reverse(cuts.begin(), cuts.end());
    return cuts;
}

/// Peak picking as MSAF does for Foote: Gaussian smoothing (sigma 4), local maxima above a moving
/// median (L) plus a twentieth of the mean.
std::vector<size_t> pick_peaks(std::vector<double> nc, size_t L) {
    const size_t n = nc.size();
    if (n < 3) return {};
    const double offset = std::accumulate(nc.begin(), nc.end(), 0.0) / static_cast<double>(n) / 20.0;
    std::vector<double> sm(n, 0.0);
    const int r = 16;
    for (size_t i = 0; i < n; ++i) {
        double a = 0.0, w = 0.0;
        for (int d = -r; d <= r; ++d) {
            const long j = static_cast<long>(i) + d;
            if (j < 0 || j >= static_cast<long>(n)) continue;
            const double g = std::exp(-0.5 * d * d / 16.0);
            a += g * nc[static_cast<size_t>(j)];
            w += g;
        }
        sm[i] = a / w;
    }
    std::vector<size_t> peaks;
    std::vector<double> win;
    for (size_t i = 1; i + 1 < n; ++i) {
        win.clear();
        const size_t a = i >= L / 2 ? i - L / 2 : 0, b = std::min(n, i + L / 2 + 1);
        win.assign(sm.begin() + static_cast<std::ptrdiff_t>(a), sm.begin() + static_cast<std::ptrdiff_t>(b));
        std::nth_element(win.begin(), win.begin() + static_cast<std::ptrdiff_t>(win.size() / 2), win.end());
        const double th = win[win.size() / 2] + offset;
        if (sm[i] > sm[i - 1] && sm[i] > sm[i + 1] && sm[i] > th) peaks.push_back(i);
    }
    return peaks;
}

/// Foote (2000) as MSAF configures it: beat-synchronous chroma, min-max normalised, median
/// filtered over 12 beats; self-similarity 1 - euclidean distance / max; a 66-beat Gaussian
/// checkerboard kernel; peaks above a 64-beat moving median. Returns beat indices (0 and n included).
std::vector<size_t> foote_boundaries(const BeatFeatures& f) {
    const size_t n = f.size();
    constexpr int M = 66, m = 12, L = 64;
    std::vector<std::array<float, 12>> x = f.chroma;
    for (size_t k = 0; k < 12; ++k) {
        float lo = 1e9f, hi = -1e9f;
        for (const auto& v : x) lo = std::min(lo, v[k]), hi = std::max(hi, v[k]);
        for (auto& v : x) v[k] = hi > lo ? (v[k] - lo) / (hi - lo) : 0.0f;
        std::vector<float> col(n), win;
        for (size_t i = 0; i < n; ++i) {
            const size_t a = i >= m / 2 ? i - m / 2 : 0, b = std::min(n, i + m / 2);
            win.clear();
            for (size_t j = a; j < std::max(b, a + 1) && j < n; ++j) win.push_back(x[j][k]);
            std::nth_element(win.begin(), win.begin() + static_cast<std::ptrdiff_t>(win.size() / 2), win.end());
            col[i] = win[win.size() / 2];
        }
        for (size_t i = 0; i < n; ++i) x[i][k] = col[i];
    }
    auto dist = [&](size_t i, size_t j) {
        double d = 0.0;
        for (size_t k = 0; k < 12; ++k) d += (x[i][k] - x[j][k]) * (x[i][k] - x[j][k]);
        return std::sqrt(d);
    };
    double dmax = 1e-9;  // over the band the kernel sees
    for (size_t i = 0; i < n; ++i)
        for (size_t j = i + 1; j < std::min(n, i + M); ++j) dmax = std::max(dmax, dist(i, j));
    const int h = M / 2;
    const double sd = M / 3.0;
    std::vector<double> nc(n, 0.0);
    for (size_t c = 0; c < n; ++c) {
        double acc = 0.0;
        for (int a = -h; a < h; ++a)
            for (int b = -h; b < h; ++b) {
                const long i = static_cast<long>(c) + a, j = static_cast<long>(c) + b;
                if (i < 0 || j < 0 || i >= static_cast<long>(n) || j >= static_cast<long>(n)) continue;
                const double ga = a + 0.5, gb = b + 0.5;
                const double g = std::exp(-0.5 * (ga * ga + gb * gb) / (sd * sd));
                const double s = 1.0 - dist(static_cast<size_t>(i), static_cast<size_t>(j)) / dmax;
                acc += ((a < 0) == (b < 0) ? g : -g) * s;
            }
        nc[c] = acc;
    }
    const double mx = *std::max_element(nc.begin(), nc.end());
    const double mn = *std::min_element(nc.begin(), nc.end());
    for (auto& v : nc) v = mx > mn ? (v - mn) / (mx - mn) : 0.0;
    std::vector<size_t> cuts = {0};
    for (size_t pk : pick_peaks(nc, L))
        if (pk > 0 && pk < n) cuts.push_back(pk);
    cuts.push_back(n);
    return cuts;
}

/// Aligned similarity of two beat ranges: beat k of one against beat k of the other.
double range_sim(const Similarity& s, size_t a0, size_t a1, size_t b0, size_t b1) {
    const size_t len = std::min(a1 - a0, b1 - b0);
    if (len == 0) return 0.0;
    double acc = 0.0;
    for (size_t k = 0; k < len; ++k) acc += s.beat(a0 + k, b0 + k);
    return acc / static_cast<double>(len);
}

/// Mean and spread of beat-pair similarity in the file (a deterministic sample): the scale
/// against which "the same material" is judged.
std::pair<double, double> sim_stats(const Similarity& s, size_t n) {
    double sum = 0.0, sum2 = 0.0;
    size_t count = 0;
    const size_t step = std::max<size_t>(1, n / 200);
    for (size_t i = 0; i < n; i += step)
        for (size_t j = i + 1 + (i % 7); j < n && j < i + 2000; j += step) {
            const double v = s.beat(i, j);
            sum += v;
            sum2 += v * v;
            ++count;
        }
    if (count < 2) return {0.5, 0.1};
    const double mean = sum / static_cast<double>(count);
    return {mean, std::max(0.02, std::sqrt(std::max(0.0, sum2 / static_cast<double>(count) - mean * mean)))};
}

void assign_functions(std::vector<Phrase>& ph, const BeatFeatures& f) {
    const size_t m = ph.size();
    if (m == 0) return;
    std::vector<double> energy(m, -120.0);
    double loudest = -120.0;
    for (size_t i = 0; i < m; ++i) {
        // Mean power of the phrase's beats, in dB.
        double p = 0.0;
        for (size_t b = ph[i].first_beat; b < ph[i].end_beat; ++b) p += std::pow(10.0, f.level_db[b] / 10.0);
        energy[i] = 10.0 * std::log10(p / std::max<size_t>(1, ph[i].end_beat - ph[i].first_beat) + 1e-12);
        loudest = std::max(loudest, energy[i]);
    }
    std::vector<double> sorted = energy;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted[m / 2];
    std::map<std::string, int> count;
    for (const auto& p : ph) ++count[p.label];
    for (size_t i = 0; i < m; ++i)
        if (energy[i] < std::max(-60.0, loudest - 40.0)) ph[i].function = "silence";
    // Intro / outro: the first / last non-silent phrase when its material never comes back and the
    // file starts (ends) like a whole song: from (into) silence, or with the phrase clearly quieter
    // than the song's median phrase. An excerpt cut out of a song starts on its material, and the
    // first phrase of an excerpt rarely repeats inside it: without that evidence it is no intro.
    // A fragment of at most one bar (a phrase cut by the file's edge) is no intro / outro: in the
    // training songs' labels (POP909 201-575) 9 % of such last and 15 % of such first segments
    // are one, against 8 % and 28 % over all lengths.
    auto edge = [&](size_t i, const char* name, double silence_s, double min_silence_s) {
        if (!ph[i].function.empty() || ph[i].bars < 2) return;
        if (count[ph[i].label] == 1 && (silence_s >= min_silence_s || energy[i] < median - 6.0)) ph[i].function = name;
    };
    size_t first = 0;
    while (first < m && ph[first].function == "silence") ++first;
    size_t last = m;
    while (last > 0 && ph[last - 1].function == "silence") --last;
    if (first < last) {
        // A song's end decays for a while (reverb, release): 1 s of silence, not a cut's fade.
        edge(first, "intro", f.lead_in_silence_s, 0.1);
        if (last - 1 > first) edge(last - 1, "outro", f.tail_silence_s, 1.0);
    }
    // Chorus: the repeated material that is loudest, favouring the most repeated.
    std::map<std::string, double> label_energy, label_first;
    std::map<std::string, int> label_n;
    for (size_t i = 0; i < m; ++i) {
        if (!ph[i].function.empty()) continue;
        label_energy[ph[i].label] += energy[i];
        ++label_n[ph[i].label];
        if (!label_first.count(ph[i].label)) label_first[ph[i].label] = static_cast<double>(i);
    }
    std::string chorus;
    double best = kNegInf;
    for (const auto& [l, n] : label_n) {
        if (n < 2) continue;
        const double score = label_energy[l] / n + 1.5 * std::log2(static_cast<double>(n));
        if (score > best) best = score, chorus = l;
    }
    size_t first_chorus = m;
    for (size_t i = 0; i < m; ++i)
        if (ph[i].function.empty() && ph[i].label == chorus) {
            first_chorus = std::min(first_chorus, i);
            ph[i].function = "chorus";
        }
    // Pre-chorus: repeated material that leads into the chorus every time it occurs and itself
    // follows other repeated material (in verse-chorus-verse-chorus the verse is no pre-chorus).
    for (const auto& [l, n] : label_n) {
        if (n < 2 || l == chorus) continue;
        bool after_other = false;
        for (size_t i = 1; i < m; ++i)
            if (ph[i].label == l && ph[i - 1].label != l && ph[i - 1].label != chorus && label_n[ph[i - 1].label] >= 2)
                after_other = true;
        if (!after_other) continue;
        int leads = 0;
        for (size_t i = 0; i + 1 < m; ++i)
            if (ph[i].label == l && ph[i + 1].label == chorus) ++leads;
        if (leads == n)
            for (auto& p : ph)
                if (p.function.empty() && p.label == l) p.function = "pre-chorus";
    }
    for (size_t i = 0; i < m; ++i) {
        if (!ph[i].function.empty()) continue;
        if (label_n[ph[i].label] >= 2)
            ph[i].function = label_first[ph[i].label] < static_cast<double>(first_chorus) ? "verse" : "instrumental";
        else
            ph[i].function = i < first_chorus ? "verse" : "bridge";
    }
}

}  // namespace

std::string letter(size_t index) {
    std::string s;
    size_t i = index;
    do {
        s.insert(s.begin(), static_cast<char>('A' + i % 26));
        i = i / 26;
    } while (i-- > 0);
    return s;
}

Structure analyze(const BeatFeatures& f, const Params& p) {
    Structure out;
    const size_t n = f.size();
    if (n == 0) return out;
    // All silence: one phrase, one letter.
    if (*std::max_element(f.level_db.begin(), f.level_db.end()) < -60.0f) {
        Phrase ph;
        ph.end_beat = n;
        ph.label = letter(0);
        ph.function = "silence";
        ph.confidence = ph.boundary_strength = 1.0;
        out.phrases.push_back(ph);
        out.confidence = 1.0;
        return out;
    }
    const Similarity sim(f, p.chroma_weight);
    const Bars bars = make_bars(f);
    const size_t nb = bars.size();

    const auto [mu, sd] = sim_stats(sim, n);
    // Boundaries: beat indices of the phrase starts (0 and n included) and their strength.
    std::vector<size_t> cuts;
    std::vector<double> strength;
    const size_t max_lag = static_cast<size_t>(std::max(2, p.max_lag_bars));
    std::vector<std::vector<float>> band;
    if (p.method != "foote" || p.keep_features) band = bar_band(sim, bars, max_lag);
    std::vector<BarLineFeatures> lines;
    if (p.method == "learned" || p.keep_features) lines = bar_line_features(f, sim, bars, band, max_lag, mu, sd);
    if (p.keep_features) {
        out.bar_lines = lines;
        out.bar_line_beats.assign(bars.first.begin() + 1, bars.first.end() - 1);
        for (size_t b = 0; b < nb; ++b) out.bar_whole.push_back(bars.whole[b + 1] - bars.whole[b]);
    }
    if (p.method == "foote") {
        cuts = foote_boundaries(f);
        strength.assign(cuts.size(), 1.0);
    } else if (p.method == "learned") {
        std::vector<double> stage1(lines.size());
        for (size_t i = 0; i < lines.size(); ++i) stage1[i] = boundary_logit(lines, i);
        const auto stage2 = stack_logits(stage1, lines);
        std::vector<double> logit(nb + 1, 0.0);
        for (size_t b = 1; b < nb; ++b) logit[b] = stage2[b - 1];
        const auto bar_cuts = learned_dp(logit, bars, p);
        for (size_t c : bar_cuts) {
            cuts.push_back(bars.first[c]);
            strength.push_back(c == 0 || c == nb ? 1.0 : 1.0 / (1.0 + std::exp(-logit[c])));
        }
    } else {
        auto cn = checkerboard(band, nb, 4);
        auto ln = lag_novelty(lag_matrix(band, nb, max_lag), nb, max_lag, 2);
        normalise(cn);
        normalise(ln);
        std::vector<double> score(nb + 1, 0.0);
        // Weights chosen on the dev split (bench/sections/README.md): repetition carries phrase
        // boundaries in pop songs (A A B B has little block novelty), the checkerboard the rest.
        for (size_t b = 0; b <= nb; ++b) score[b] = 0.2 * cn[b] + 0.8 * ln[b];
        const auto bar_cuts = phrase_dp(score, bars, p);
        for (size_t c : bar_cuts) {
            cuts.push_back(bars.first[c]);
            strength.push_back(c == 0 || c == nb ? 1.0 : std::clamp(score[c] / 1.5, 0.0, 1.0));
        }
    }
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    // A lead-in or tail shorter than a bar stays a phrase of its own only when it is silence of a
    // second or more; otherwise it joins its neighbour.
    for (size_t k = 0; k + 1 < cuts.size() && cuts.size() > 2;) {
        const size_t a = cuts[k], b = cuts[k + 1];
        const auto ba = std::lower_bound(bars.first.begin(), bars.first.end(), a) - bars.first.begin();
        const auto bb = std::lower_bound(bars.first.begin(), bars.first.end(), b) - bars.first.begin();
        double power = 0.0;
        for (size_t i = a; i < b; ++i) power += std::pow(10.0, f.level_db[i] / 10.0);
        const bool silent = 10.0 * std::log10(power / static_cast<double>(b - a) + 1e-12) < -60.0;
        if (bars.whole_bars(static_cast<size_t>(ba), static_cast<size_t>(bb)) == 0 &&
            !(silent && f.times[b] - f.times[a] >= 1.0)) {
            const size_t drop = k == 0 ? 1 : k;  // the first joins the next, the others the previous
            cuts.erase(cuts.begin() + static_cast<std::ptrdiff_t>(drop));
            if (drop < strength.size()) strength.erase(strength.begin() + static_cast<std::ptrdiff_t>(drop));
            continue;
        }
        ++k;
    }

    // Repetition letters: leader-follower over the phrases in order; a phrase takes the letter of
    // the most similar earlier phrase (aligned beat by beat) when that similarity is a clear
    // outlier for this file, else a new letter.
    std::vector<size_t> label_of;
    std::vector<double> label_conf;
    size_t next_label = 0;
    for (size_t k = 0; k + 1 < cuts.size(); ++k) {
        Phrase ph;
        ph.first_beat = cuts[k];
        ph.end_beat = cuts[k + 1];
        {
            const auto a = std::lower_bound(bars.first.begin(), bars.first.end(), ph.first_beat) - bars.first.begin();
            const auto b = std::lower_bound(bars.first.begin(), bars.first.end(), ph.end_beat) - bars.first.begin();
            ph.bars = bars.whole_bars(static_cast<size_t>(a), static_cast<size_t>(b));
        }
        ph.boundary_strength = k < strength.size() ? strength[k] : 1.0;
        double best_z = kNegInf;
        size_t best_q = 0;
        const size_t q0 = k > static_cast<size_t>(p.label_window) ? k - static_cast<size_t>(p.label_window) : 0;
        for (size_t q = q0; q < k; ++q) {
            const auto& o = out.phrases[q];
            const double rs = range_sim(sim, ph.first_beat, ph.end_beat, o.first_beat, o.end_beat);
            // Near-identical material is the same whatever the file's spread (a uniform loop).
            double z = rs >= 0.95 ? std::max((rs - mu) / sd, p.label_threshold) : (rs - mu) / sd;
            const double la = static_cast<double>(ph.end_beat - ph.first_beat);
            const double lb = static_cast<double>(o.end_beat - o.first_beat);
            if (std::min(la, lb) < 0.5 * std::max(la, lb)) z -= 0.5;  // very different lengths
            if (z > best_z) best_z = z, best_q = q;
        }
        double conf;
        if (best_z >= p.label_threshold) {
            label_of.push_back(label_of[best_q]);
            conf = std::clamp(0.5 + 0.25 * (best_z - p.label_threshold), 0.0, 1.0);
        } else {
            label_of.push_back(next_label++);
            conf = best_z == kNegInf ? 0.7 : std::clamp(0.5 + 0.25 * (p.label_threshold - best_z), 0.0, 1.0);
        }
        ph.label = letter(label_of.back());
        ph.confidence = 0.5 * ph.boundary_strength + 0.5 * conf;
        out.phrases.push_back(std::move(ph));
    }
    assign_functions(out.phrases, f);
    double c = 0.0, w = 0.0;
    for (const auto& ph : out.phrases) {
        const double d = static_cast<double>(ph.end_beat - ph.first_beat);
        c += ph.confidence * d;
        w += d;
    }
    out.confidence = w > 0 ? c / w : 0.0;
    return out;
}

}  // namespace harmony::sections
