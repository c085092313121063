#include "export/grid.hpp"

#include <algorithm>
#include <cmath>

namespace harmony::exporters {

namespace {

// Least-squares line through (k, t[k]) for k in [s, e]; the largest residual.
double max_residual(const std::vector<double>& t, size_t s, size_t e, double* slope_out = nullptr) {
    const double n = static_cast<double>(e - s + 1);
    double sk = 0, st = 0, skk = 0, skt = 0;
    for (size_t k = s; k <= e; ++k) {
        const double x = static_cast<double>(k - s);
        sk += x;
        st += t[k];
        skk += x * x;
        skt += x * t[k];
    }
    const double den = n * skk - sk * sk;
    const double slope = den > 0 ? (n * skt - sk * st) / den : 0.0;
    const double icpt = (st - slope * sk) / n;
    double worst = 0.0;
    for (size_t k = s; k <= e; ++k)
        worst = std::max(worst, std::fabs(t[k] - (icpt + slope * static_cast<double>(k - s))));
    if (slope_out) *slope_out = slope;
    return worst;
}

}  // namespace

std::vector<GridSection> grid_sections(const SongMap& m, double tolerance_s) {
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
        out.push_back({g.first_beat_s, g.bpm, pos_at(0)});
        return out;
    }
    const size_t n = t.size();
    if (n < 2) {
        const double bpm = (m.tempo && m.tempo->bpm) ? *m.tempo->bpm : g.bpm;
        if (bpm > 0) out.push_back({t[0], bpm, pos_at(0)});
        return out;
    }
    // Greedy: the longest runs of beats a straight grid fits; then each boundary is moved (up to
    // 4 beats) to where the two neighbouring fits are best, since a tempo change is only detected
    // a few beats after it happened.
    std::vector<size_t> cut = {0};
    for (size_t s = 0; s + 1 < n;) {
        size_t e = s + 1;
        while (e + 1 < n && max_residual(t, s, e + 1) <= tolerance_s) ++e;
        cut.push_back(e);
        s = e;
    }
    for (size_t i = 1; i + 1 < cut.size(); ++i) {
        size_t best = cut[i];
        double best_cost = max_residual(t, cut[i - 1], cut[i]) + max_residual(t, cut[i], cut[i + 1]);
        const size_t lo = std::max(cut[i - 1] + 1, cut[i] > 4 ? cut[i] - 4 : size_t{0});
        const size_t hi = std::min(cut[i + 1] - 1, cut[i] + 4);
        for (size_t j = lo; j <= hi; ++j) {
            const double c = max_residual(t, cut[i - 1], j) + max_residual(t, j, cut[i + 1]);
            if (c < best_cost - 1e-12) {
                best_cost = c;
                best = j;
            }
        }
        cut[i] = best;
    }
    for (size_t i = 0; i + 1 < cut.size(); ++i) {
        const size_t s = cut[i], e = cut[i + 1];
        double bpm;
        if (i + 2 < cut.size()) {
            bpm = 60.0 * static_cast<double>(e - s) / (t[e] - t[s]);  // lands exactly on the next start
        } else {
            double slope = 0.0;
            max_residual(t, s, e, &slope);
            bpm = slope > 0 ? 60.0 / slope : 0.0;
        }
        if (!std::isfinite(bpm) || bpm <= 0) continue;
        if (!out.empty() && std::fabs(out.back().bpm - bpm) < 0.005) continue;  // one section
        out.push_back({t[s], bpm, pos_at(s)});
    }
    return out;
}

}  // namespace harmony::exporters
