#include "analyzers/rhythm/rhythm.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

#include "analyzers/rhythm/rhythm_internal.hpp"

namespace harmony::rhythm {

using detail::Vec;

std::string Params::key() const {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%.4f/%.4f/%.3f/%d/", min_bpm, max_bpm, tightness, snap_grid ? 1 : 0);
    std::string k = std::string(buf) + meter + "/" + bar_phase;
    if (net) {
        std::snprintf(buf, sizeof buf, "/nn:%.3f/%.3f/%d%d/", nn_mix, nn_bar_weight, nn_tempo ? 1 : 0,
                      nn_phase_check ? 1 : 0);
        k += buf + model_hash;
    }
    return k;
}

namespace detail {

double median(Vec v) {
    if (v.empty()) return 0.0;
    const size_t m = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(m), v.end());
    return v[m];
}

double percentile(Vec v, double q) {
    if (v.empty()) return 0.0;
    const auto k = static_cast<size_t>(std::clamp(q, 0.0, 1.0) * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

Vec moving_average(const Vec& x, int half) {
    const size_t n = x.size();
    Vec prefix(n + 1, 0.0);
    for (size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + x[i];
    Vec out(n);
    for (size_t i = 0; i < n; ++i) {
        const size_t lo = i >= static_cast<size_t>(half) ? i - static_cast<size_t>(half) : 0;
        const size_t hi = std::min(n, i + static_cast<size_t>(half) + 1);
        out[i] = (prefix[hi] - prefix[lo]) / static_cast<double>(hi - lo);
    }
    return out;
}

Vec novelty(const Vec& raw, const Vec& gate, double fr) {
    const Vec mean = moving_average(raw, static_cast<int>(std::lround(0.4 * fr)));
    Vec o(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) o[i] = gate[i] > 0.0 ? std::max(0.0, raw[i] - mean[i]) : 0.0;
    return o;
}

Tempogram tempogram(const Vec& o, double fr, double hop_s) {
    Tempogram tg;
    const int n = static_cast<int>(o.size());
    tg.win = std::min(n, static_cast<int>(std::lround(12.0 * fr)));
    tg.hop = std::max(1, static_cast<int>(std::lround(hop_s * fr)));
    tg.lmax = std::min(static_cast<int>(std::lround(4.2 * fr)), tg.win * 2 / 3);
    tg.global.assign(static_cast<size_t>(tg.lmax) + 1, 0.0);
    if (tg.win < 8 || tg.lmax < 4) return tg;
    Vec x(static_cast<size_t>(tg.win));
    double wsum = 0.0;
    for (int s = 0;; s += tg.hop) {
        int start = s;
        if (start + tg.win > n) start = n - tg.win;
        double mean = 0.0;
        for (int i = 0; i < tg.win; ++i) mean += o[static_cast<size_t>(start + i)];
        mean /= tg.win;
        for (int i = 0; i < tg.win; ++i) x[static_cast<size_t>(i)] = o[static_cast<size_t>(start + i)] - mean;
        Vec a(static_cast<size_t>(tg.lmax) + 1, 0.0);
        for (int l = 0; l <= tg.lmax; ++l) {
            // Four independent partial sums: the products pipeline (a single running sum is one
            // long dependency chain the compiler may not reorder).
            double acc[4] = {0.0, 0.0, 0.0, 0.0};
            const double* p = x.data();
            const double* q = x.data() + l;
            const int m = tg.win - l;
            int i = 0;
            for (; i + 4 <= m; i += 4)
                for (int k = 0; k < 4; ++k) acc[k] += p[i + k] * q[i + k];
            for (; i < m; ++i) acc[0] += p[i] * q[i];
            a[static_cast<size_t>(l)] = (acc[0] + acc[1] + acc[2] + acc[3]) / m;
        }
        double w = 0.0;
        if (a[0] > 1e-12) {
            const double a0 = a[0];
            for (auto& v : a) v /= a0;
            w = 1.0;
        } else {
            std::fill(a.begin(), a.end(), 0.0);
        }
        for (size_t l = 0; l < a.size(); ++l) tg.global[l] += w * a[l];
        wsum += w;
        tg.centre.push_back((start + tg.win / 2.0) / fr);
        tg.weight.push_back(w);
        tg.acf.push_back(std::move(a));
        if (start + tg.win >= n) break;
    }
    if (wsum > 0.0)
        for (auto& v : tg.global) v /= wsum;
    return tg;
}

Vec normalized_acf(const Vec& x, int lmax) {
    const int n = static_cast<int>(x.size());
    lmax = std::max(0, std::min(lmax, n - 1));
    Vec a(static_cast<size_t>(lmax) + 1, 0.0);
    if (n < 2) return a;
    double mean = 0.0;
    for (double v : x) mean += v;
    mean /= n;
    Vec y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] - mean;
    for (int l = 0; l <= lmax; ++l) {
        double acc = 0.0;
        for (int i = 0; i + l < n; ++i) acc += y[static_cast<size_t>(i)] * y[static_cast<size_t>(i + l)];
        a[static_cast<size_t>(l)] = acc / (n - l);
    }
    if (a[0] <= 1e-12) return Vec(a.size(), 0.0);
    const double a0 = a[0];
    for (auto& v : a) v /= a0;
    return a;
}

double peak_near(const Vec& a, double lag, double halfwidth) {
    const int lo = std::max(1, static_cast<int>(std::floor(lag - halfwidth)));
    const int hi = std::min(static_cast<int>(a.size()) - 1, static_cast<int>(std::ceil(lag + halfwidth)));
    double best = -1.0;
    for (int l = lo; l <= hi; ++l) best = std::max(best, a[static_cast<size_t>(l)]);
    return best;
}

double comb(const Vec& a, double lag) {
    double s = 0.0, w = 0.0;
    static constexpr double kWeights[4] = {1.0, 0.9, 0.7, 0.6};
    for (int k = 1; k <= 4; ++k) {
        const double l = lag * k;
        if (l > static_cast<double>(a.size()) - 2.0) break;
        s += kWeights[k - 1] * peak_near(a, l, 0.6 + 0.015 * l);
        w += kWeights[k - 1];
    }
    return w > 0.0 ? s / w : 0.0;
}

Salience salience(const Vec& acf, double fr) {
    Salience s;
    for (double bpm = kMinSearchBpm; bpm <= kMaxSearchBpm; bpm *= std::pow(2.0, 1.0 / 96.0)) {
        const double lag = 60.0 * fr / bpm;
        if (lag * 1.0 > static_cast<double>(acf.size()) - 2.0) continue;
        s.bpm.push_back(bpm);
        s.value.push_back(std::max(0.0, comb(acf, lag)));
    }
    return s;
}

double salience_at(const Salience& s, double bpm) {
    if (s.bpm.empty()) return 0.0;
    // nearest grid point with a small neighbourhood max (grid step is ~0.7 %)
    const auto it = std::lower_bound(s.bpm.begin(), s.bpm.end(), bpm);
    const auto i = static_cast<std::ptrdiff_t>(it - s.bpm.begin());
    double best = 0.0;
    for (std::ptrdiff_t j = i - 2; j <= i + 1; ++j)
        if (j >= 0 && j < static_cast<std::ptrdiff_t>(s.bpm.size()) &&
            std::abs(std::log2(s.bpm[static_cast<size_t>(j)] / bpm)) < 0.02)
            best = std::max(best, s.value[static_cast<size_t>(j)]);
    return best;
}

double refine_lag(const Vec& a, double lag) {
    // parabolic interpolation around the integer maximum near lag
    const int l0 = static_cast<int>(std::lround(lag));
    int best = l0;
    for (int l = l0 - 2; l <= l0 + 2; ++l)
        if (l >= 1 && l + 1 < static_cast<int>(a.size()) && a[static_cast<size_t>(l)] > a[static_cast<size_t>(best)])
            best = l;
    if (best < 1 || best + 1 >= static_cast<int>(a.size())) return lag;
    const double y0 = a[static_cast<size_t>(best - 1)], y1 = a[static_cast<size_t>(best)],
                 y2 = a[static_cast<size_t>(best + 1)];
    const double den = y0 - 2.0 * y1 + y2;
    if (std::abs(den) < 1e-12) return best;
    return best + std::clamp(0.5 * (y0 - y2) / den, -0.5, 0.5);
}

std::vector<int> track_beats(const Vec& o, const Vec& tau, double tightness) {
    const size_t n = o.size();
    std::vector<int> beats;
    if (n < 4) return beats;
    double sd = 0.0, mean = 0.0;
    for (double v : o) mean += v;
    mean /= static_cast<double>(n);
    for (double v : o) sd += (v - mean) * (v - mean);
    sd = std::sqrt(sd / static_cast<double>(n));
    if (sd <= 0.0) return beats;
    Vec local(n), score(n);
    for (size_t i = 0; i < n; ++i) local[i] = o[i] / sd;
    std::vector<int> back(n, -1);
    const int dmax = static_cast<int>(std::ceil(2.2 * *std::max_element(tau.begin(), tau.end()))) + 2;
    Vec logd(static_cast<size_t>(dmax) + 1, 0.0);
    for (int d = 1; d <= dmax; ++d) logd[static_cast<size_t>(d)] = std::log(static_cast<double>(d));
    for (size_t t = 0; t < n; ++t) {
        const double tt = tau[t];
        const double lt = std::log(tt);
        const int lo = static_cast<int>(std::lround(2.0 * tt));
        const int hi = std::max(1, static_cast<int>(std::lround(0.5 * tt)));
        double best = -std::numeric_limits<double>::infinity();
        int arg = -1;
        for (int d = hi; d <= lo && d <= static_cast<int>(t); ++d) {
            const double r = logd[static_cast<size_t>(d)] - lt;
            const double v = score[t - static_cast<size_t>(d)] - tightness * r * r;
            if (v > best) {
                best = v;
                arg = static_cast<int>(t) - d;
            }
        }
        if (arg >= 0 && best > 0.0) {
            score[t] = local[t] + best;
            back[t] = arg;
        } else {
            score[t] = local[t];
        }
    }
    // last beat: the last local maximum of the cumulative score above half the median of maxima
    Vec maxima;
    for (size_t t = 1; t + 1 < n; ++t)
        if (score[t] > score[t - 1] && score[t] >= score[t + 1]) maxima.push_back(score[t]);
    const double thr = 0.5 * median(maxima);
    int last = -1;
    for (size_t t = n - 2; t >= 1; --t) {
        if (score[t] > score[t - 1] && score[t] >= score[t + 1] && score[t] >= thr) {
            last = static_cast<int>(t);
            break;
        }
    }
    if (last < 0) return beats;
    for (int t = last; t >= 0; t = back[static_cast<size_t>(t)]) beats.push_back(t);
    std::reverse(beats.begin(), beats.end());
    return beats;
}

LineFit fit_line(const Vec& t) {
    LineFit f;
    const size_t n = t.size();
    if (n < 2) return f;
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t i = 0; i < n; ++i) {
        const double x = static_cast<double>(i);
        sx += x;
        sy += t[i];
        sxx += x * x;
        sxy += x * t[i];
    }
    const double dn = static_cast<double>(n);
    const double den = dn * sxx - sx * sx;
    if (den <= 0) return f;
    f.slope = (dn * sxy - sx * sy) / den;
    f.intercept = (sy - f.slope * sx) / dn;
    Vec r(n);
    for (size_t i = 0; i < n; ++i) r[i] = std::abs(t[i] - (f.intercept + f.slope * static_cast<double>(i)));
    f.p90_abs_residual = percentile(r, 0.9);
    f.max_abs_residual = *std::max_element(r.begin(), r.end());
    set_drift(t, f);
    return f;
}

void set_drift(const Vec& t, LineFit& f) {
    constexpr size_t kHalf = 4, kStep = 4, kEdge = 8;
    const size_t n = t.size();
    f.max_abs_drift = f.max_drift_step = 0.0;
    if (n < 2 * kEdge + 1) return;
    Vec r(n);
    for (size_t i = 0; i < n; ++i) r[i] = t[i] - (f.intercept + f.slope * static_cast<double>(i));
    Vec slow;
    for (size_t i = kEdge; i + kEdge < n; ++i)
        slow.push_back(median(Vec(r.begin() + static_cast<std::ptrdiff_t>(i - kHalf),
                                  r.begin() + static_cast<std::ptrdiff_t>(i + kHalf) + 1)));
    for (size_t i = 0; i < slow.size(); ++i) {
        f.max_abs_drift = std::max(f.max_abs_drift, std::abs(slow[i]));
        if (i >= kStep) f.max_drift_step = std::max(f.max_drift_step, std::abs(slow[i] - slow[i - kStep]));
    }
}

LineFit fit_line_robust(const Vec& t, double min_tol_s, size_t* inliers) {
    LineFit f = fit_line(t);
    const size_t n = t.size();
    size_t used = n;
    if (n >= 6 && f.slope > 0) {
        std::vector<char> in(n, 1);
        for (int round = 0; round < 4; ++round) {
            Vec r;
            for (size_t i = 0; i < n; ++i)
                if (in[i]) r.push_back(std::abs(t[i] - (f.intercept + f.slope * static_cast<double>(i))));
            const double tol = std::max(min_tol_s, 3.0 * 1.4826 * median(r));
            std::vector<char> next(n, 0);
            size_t count = 0;
            for (size_t i = 0; i < n; ++i) {
                next[i] = std::abs(t[i] - (f.intercept + f.slope * static_cast<double>(i))) <= tol ? 1 : 0;
                count += static_cast<size_t>(next[i]);
            }
            if (count < std::max<size_t>(4, n / 2) || next == in) break;
            in = next;
            double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
            for (size_t i = 0; i < n; ++i) {
                if (!in[i]) continue;
                const double x = static_cast<double>(i);
                sw += 1.0;
                sx += x;
                sy += t[i];
                sxx += x * x;
                sxy += x * t[i];
            }
            const double den = sw * sxx - sx * sx;
            if (den <= 0) break;
            f.slope = (sw * sxy - sx * sy) / den;
            f.intercept = (sy - f.slope * sx) / sw;
            used = count;
        }
        Vec r(n);
        for (size_t i = 0; i < n; ++i) r[i] = std::abs(t[i] - (f.intercept + f.slope * static_cast<double>(i)));
        f.p90_abs_residual = percentile(r, 0.9);
        f.max_abs_residual = *std::max_element(r.begin(), r.end());
        set_drift(t, f);
    }
    if (inliers) *inliers = used;
    return f;
}

Vec refine_on_peaks(const Vec& o, double fr, const Vec& beats_s, double lag_s, int radius) {
    Vec out = beats_s;
    const auto n = static_cast<std::ptrdiff_t>(o.size());
    for (double& b : out) {
        const auto c = static_cast<std::ptrdiff_t>(std::lround((b - lag_s) * fr));
        std::ptrdiff_t m = -1;
        for (auto i = std::max<std::ptrdiff_t>(1, c - radius); i <= std::min(n - 2, c + radius); ++i)
            if (m < 0 || o[static_cast<size_t>(i)] > o[static_cast<size_t>(m)]) m = i;
        if (m < 0 || o[static_cast<size_t>(m)] <= 0.0) continue;
        const double y0 = o[static_cast<size_t>(m - 1)], y1 = o[static_cast<size_t>(m)],
                     y2 = o[static_cast<size_t>(m + 1)];
        if (y1 < y0 || y1 < y2) continue;  // the window's edge, not a peak
        const double den = y0 - 2.0 * y1 + y2;
        const double d = std::abs(den) > 1e-12 ? std::clamp(0.5 * (y0 - y2) / den, -0.5, 0.5) : 0.0;
        b = (static_cast<double>(m) + d) / fr + lag_s;
    }
    return out;
}

}  // namespace detail

}  // namespace harmony::rhythm
