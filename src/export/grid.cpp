#include "export/grid.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace harmony::exporters {

namespace {

// A tempo section is at least this many beats (two bars): shorter runs are tracker noise, not a
// tempo a DJ would see.
constexpr size_t kMinSectionBeats = 8;
// ... and the first and last at least this many (four bars): at a track's ends the tracker coasts
// through fades and final chords (dev renders: the last 6 beats drifting 70-290 ms made a section).
constexpr size_t kMinEdgeSectionBeats = 16;
// Cost of one more section, in units of the beats' timing noise (sigma^2): a split must explain
// this much of the squared error. On 10 dev renders with a x1.04 atempo step, 40 left a third
// section in 4 of them (the tracker's beats wander +-25 ms with the instrumentation), 100 in 1.
constexpr double kSectionPenalty = 100.0;
// Timing noise floor (s): the tracker's beats sit on 10 ms frames (uniform +-5 ms: 2.9 ms rms;
// the rhythm analyzer moves them to sub-frame onset peaks, but other producers of beats may not).
constexpr double kMinSigmaS = 0.003;
// Beats further than this many sigmas from their section's line do not steer the fit.
constexpr double kOutlierSigmas = 4.0;

// Prefix sums of (x, y) over the beats the fit uses (x = beat index, y = detrended time).
struct Sums {
    std::vector<double> w, x, y, xx, xy, yy;
    explicit Sums(const std::vector<double>& y_in, const std::vector<char>& use) {
        const size_t n = y_in.size();
        for (auto* v : {&w, &x, &y, &xx, &xy, &yy}) v->assign(n + 1, 0.0);
        for (size_t i = 0; i < n; ++i) {
            const double u = use[i] ? 1.0 : 0.0, xi = static_cast<double>(i), yi = y_in[i];
            w[i + 1] = w[i] + u;
            x[i + 1] = x[i] + u * xi;
            y[i + 1] = y[i] + u * yi;
            xx[i + 1] = xx[i] + u * xi * xi;
            xy[i + 1] = xy[i] + u * xi * yi;
            yy[i + 1] = yy[i] + u * yi * yi;
        }
    }
    // Squared error of the least-squares line over beats [s, e] (inclusive).
    double sse(size_t s, size_t e) const {
        const double sw = w[e + 1] - w[s];
        if (sw < 2.0) return 0.0;
        const double sx = x[e + 1] - x[s], sy = y[e + 1] - y[s], sxx = xx[e + 1] - xx[s], sxy = xy[e + 1] - xy[s],
                     syy = yy[e + 1] - yy[s];
        const double vxx = sxx - sx * sx / sw, vxy = sxy - sx * sy / sw, vyy = syy - sy * sy / sw;
        return std::max(0.0, vxx > 1e-12 ? vyy - vxy * vxy / vxx : vyy);
    }
};

// Optimal partition of beats 0..n-1 into runs of at least kMinSectionBeats, minimising the
// squared error of one straight line per run plus `penalty` per run (segmented least squares).
std::vector<size_t> partition(const std::vector<double>& y, const std::vector<char>& use, double penalty) {
    const size_t n = y.size();
    const Sums sums(y, use);
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> best(n + 1, inf);  // best[k]: beats 0..k-1 partitioned
    std::vector<size_t> from(n + 1, 0);
    best[0] = 0.0;
    for (size_t e = kMinSectionBeats; e <= n; ++e)
        for (size_t s = 0; s + kMinSectionBeats <= e; ++s) {
            if (!std::isfinite(best[s])) continue;
            if ((s == 0 || e == n) && e - s < kMinEdgeSectionBeats && e - s < n) continue;
            const double c = best[s] + sums.sse(s, e - 1) + penalty;
            if (c < best[e]) {
                best[e] = c;
                from[e] = s;
            }
        }
    std::vector<size_t> starts;
    for (size_t e = n; e > 0; e = from[e]) starts.push_back(from[e]);
    std::reverse(starts.begin(), starts.end());
    return starts;
}

// Continuous piecewise-linear least squares: y_i = a + b i + sum_k c_k max(0, i - knot_k) over
// the used beats; returns the coefficients (a, b, c_1..c_K) and the squared error.
std::vector<double> hinge_fit(const std::vector<double>& y, const std::vector<char>& use,
                              const std::vector<size_t>& knots, double* sse) {
    const size_t m = knots.size() + 2;
    std::vector<double> ata(m * m, 0.0), atb(m, 0.0), row(m);
    auto fill = [&](size_t i) {
        row[0] = 1.0;
        row[1] = static_cast<double>(i);
        for (size_t k = 0; k < knots.size(); ++k) row[k + 2] = i > knots[k] ? static_cast<double>(i - knots[k]) : 0.0;
    };
    for (size_t i = 0; i < y.size(); ++i) {
        if (!use[i]) continue;
        fill(i);
        for (size_t r = 0; r < m; ++r) {
            atb[r] += row[r] * y[i];
            for (size_t c = 0; c < m; ++c) ata[r * m + c] += row[r] * row[c];
        }
    }
    // Gaussian elimination with partial pivoting (m is small: one unknown per section).
    std::vector<double> coef(m, 0.0);
    for (size_t c = 0; c < m; ++c) {
        size_t p = c;
        for (size_t r = c + 1; r < m; ++r)
            if (std::fabs(ata[r * m + c]) > std::fabs(ata[p * m + c])) p = r;
        if (std::fabs(ata[p * m + c]) < 1e-12) {
            if (sse) *sse = std::numeric_limits<double>::infinity();
            return coef;
        }
        if (p != c) {
            for (size_t k = 0; k < m; ++k) std::swap(ata[c * m + k], ata[p * m + k]);
            std::swap(atb[c], atb[p]);
        }
        for (size_t r = c + 1; r < m; ++r) {
            const double f = ata[r * m + c] / ata[c * m + c];
            for (size_t k = c; k < m; ++k) ata[r * m + k] -= f * ata[c * m + k];
            atb[r] -= f * atb[c];
        }
    }
    for (size_t c = m; c-- > 0;) {
        double v = atb[c];
        for (size_t k = c + 1; k < m; ++k) v -= ata[c * m + k] * coef[k];
        coef[c] = v / ata[c * m + c];
    }
    if (sse) {
        double s = 0.0;
        for (size_t i = 0; i < y.size(); ++i) {
            if (!use[i]) continue;
            fill(i);
            double v = 0.0;
            for (size_t k = 0; k < m; ++k) v += row[k] * coef[k];
            s += (y[i] - v) * (y[i] - v);
        }
        *sse = s;
    }
    return coef;
}

double hinge_at(const std::vector<double>& coef, const std::vector<size_t>& knots, size_t i) {
    double v = coef[0] + coef[1] * static_cast<double>(i);
    for (size_t k = 0; k < knots.size(); ++k)
        if (i > knots[k]) v += coef[k + 2] * static_cast<double>(i - knots[k]);
    return v;
}

}  // namespace

std::vector<GridSection> grid_sections(const SongMap& m) {
    std::vector<GridSection> out;
    if (!m.beats || m.beats->times_s.empty()) {
        if (m.tempo && m.tempo->bpm && *m.tempo->bpm > 0) out.push_back({0.0, *m.tempo->bpm, 1});
        return out;
    }
    const auto& t = m.beats->times_s;
    const auto& pos = m.beats->positions;
    auto pos_at = [&](size_t i) { return (i < pos.size() && pos[i] >= 1) ? pos[i] : 1; };
    const BeatGrid& g = m.beats->grid;
    if (g.constant && g.bpm > 0) {
        out.push_back({g.first_beat_s, g.bpm, pos_at(0), 0});
        return out;
    }
    const size_t n = t.size();
    if (n < 3) {
        const double bpm =
            n == 2 && t[1] > t[0] ? 60.0 / (t[1] - t[0]) : ((m.tempo && m.tempo->bpm) ? *m.tempo->bpm : g.bpm);
        if (bpm > 0) out.push_back({t[0], bpm, pos_at(0), 0});
        return out;
    }
    // Detrend by the straight line through the first and last beats (keeps the sums well scaled
    // on long files).
    const double p0 = (t[n - 1] - t[0]) / static_cast<double>(n - 1);
    std::vector<double> y(n);
    for (size_t i = 0; i < n; ++i) y[i] = t[i] - t[0] - p0 * static_cast<double>(i);
    // Timing noise from second differences (a tempo change adds one outlier there, not a bias).
    std::vector<double> d2;
    for (size_t i = 1; i + 1 < n; ++i) d2.push_back(std::fabs(t[i + 1] - 2.0 * t[i] + t[i - 1]));
    std::nth_element(d2.begin(), d2.begin() + static_cast<std::ptrdiff_t>(d2.size() / 2), d2.end());
    const double sigma = std::max(kMinSigmaS, 1.4826 * d2[d2.size() / 2] / std::sqrt(6.0));
    const double penalty = kSectionPenalty * sigma * sigma;

    // Sections: segmented least squares; one continuous grid through them (each section's last
    // beat lands on the next one's start: the knot is the beat where the period changes, the last
    // beat of one run or the first of the next, whichever fits), each knot moved by up to 4 beats
    // to where that grid fits best; then all again without the beats far from the grid (a
    // misplaced first beat, a tracker glitch).
    std::vector<char> use(n, 1);
    auto place_knots = [&](const std::vector<size_t>& starts) {
        std::vector<size_t> knots;
        for (size_t k = 1; k < starts.size(); ++k) knots.push_back(starts[k] - 1);
        double cost = 0.0;
        hinge_fit(y, use, knots, &cost);
        for (size_t k = 0; k < knots.size(); ++k) {
            // every section keeps its minimum length (knots shared)
            const size_t lo = k == 0 ? kMinEdgeSectionBeats - 1 : knots[k - 1] + kMinSectionBeats - 1;
            const size_t hi = k + 1 < knots.size() ? knots[k + 1] - (kMinSectionBeats - 1) : n - kMinEdgeSectionBeats;
            const size_t orig = knots[k];
            size_t best = orig;
            for (size_t j = std::max(lo, orig > 4 ? orig - 4 : 0); j <= std::min(hi, orig + 4); ++j) {
                knots[k] = j;
                double c = 0.0;
                hinge_fit(y, use, knots, &c);
                if (c < cost - 1e-15) {
                    cost = c;
                    best = j;
                }
            }
            knots[k] = best;
        }
        // a section that no longer pays for itself on the continuous grid goes
        for (bool removed = true; removed && !knots.empty();) {
            removed = false;
            for (size_t k = 0; k < knots.size(); ++k) {
                auto fewer = knots;
                fewer.erase(fewer.begin() + static_cast<std::ptrdiff_t>(k));
                double c = 0.0;
                hinge_fit(y, use, fewer, &c);
                if (c - cost < penalty) {
                    knots = fewer;
                    cost = c;
                    removed = true;
                    break;
                }
            }
        }
        return knots;
    };
    std::vector<size_t> knots =
        place_knots(n >= 2 * kMinEdgeSectionBeats ? partition(y, use, penalty) : std::vector<size_t>{0});
    for (int round = 0; round < 2; ++round) {
        const auto coef = hinge_fit(y, use, knots, nullptr);
        std::vector<char> next(n, 1);
        for (size_t i = 0; i < n; ++i)
            next[i] = std::fabs(y[i] - hinge_at(coef, knots, i)) <= std::max(kOutlierSigmas * sigma, 0.008) ? 1 : 0;
        if (static_cast<size_t>(std::count(next.begin(), next.end(), 1)) < n / 2 || next == use) break;
        use = next;
        knots = place_knots(n >= 2 * kMinEdgeSectionBeats ? partition(y, use, penalty) : std::vector<size_t>{0});
    }
    auto coef = hinge_fit(y, use, knots, nullptr);
    double slope = coef[1];
    std::vector<size_t> section_start = {0};
    section_start.insert(section_start.end(), knots.begin(), knots.end());
    for (size_t k = 0; k < section_start.size(); ++k) {
        if (k > 0) slope += coef[k + 1];
        const double period = p0 + slope;
        size_t s = section_start[k];
        double start = t[0] + p0 * static_cast<double>(s) + hinge_at(coef, knots, s);
        while (start < 0.0 && period > 0.0) {  // the grid's first beat before the file: start a beat later
            start += period;
            ++s;
        }
        const double bpm = period > 0 ? 60.0 / period : 0.0;
        if (!std::isfinite(bpm) || bpm <= 0) continue;
        out.push_back({start, bpm, pos_at(s), s});
    }
    return out;
}

}  // namespace harmony::exporters
