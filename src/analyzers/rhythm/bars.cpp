#include "analyzers/rhythm/bars.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace harmony::rhythm {

namespace {

using Vec = std::vector<double>;

double max_in(const Vec& x, double fr, double t0, double t1) {
    if (x.empty()) return 0.0;
    const auto n = static_cast<std::ptrdiff_t>(x.size());
    const auto a = std::clamp<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(std::floor(t0 * fr)), 0, n - 1);
    const auto b = std::clamp<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(std::ceil(t1 * fr)), 0, n - 1);
    double m = 0.0;
    for (auto i = a; i <= b; ++i) m = std::max(m, x[static_cast<size_t>(i)]);
    return m;
}

std::array<double, 12> mean_chroma(const BarInput& in, double t0, double t1) {
    std::array<double, 12> c{};
    const double cr = in.fr / in.chroma_decimation;
    const auto n = static_cast<std::ptrdiff_t>(in.chroma.size());
    if (n == 0) return c;
    const auto a = std::clamp<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(std::floor(t0 * cr)), 0, n - 1);
    const auto b = std::clamp<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(std::ceil(t1 * cr)), a + 1, n);
    for (auto i = a; i < b; ++i)
        for (size_t k = 0; k < 12; ++k) c[k] += in.chroma[static_cast<size_t>(i)][k];
    return c;
}

double cosine_distance(const std::array<double, 12>& a, const std::array<double, 12>& b) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t k = 0; k < 12; ++k) {
        ab += a[k] * b[k];
        aa += a[k] * a[k];
        bb += b[k] * b[k];
    }
    if (aa <= 0 || bb <= 0) return 0.0;
    return 1.0 - ab / std::sqrt(aa * bb);
}

void znorm(Vec& v) {
    if (v.empty()) return;
    double m = 0, s = 0;
    for (double x : v) m += x;
    m /= static_cast<double>(v.size());
    for (double x : v) s += (x - m) * (x - m);
    s = std::sqrt(s / static_cast<double>(v.size()));
    for (double& x : v) x = s > 1e-12 ? (x - m) / s : 0.0;
}

std::string label_for(int m, bool compound) {
    if (compound) {
        if (m == 2) return "6/8";
        if (m == 3) return "9/8";
        if (m == 4) return "12/8";
    }
    if (m == 7) return "7/8";
    return std::to_string(m) + "/4";
}

struct Forced {
    int m = 0;
    bool compound = false;
};

Forced parse_meter(const std::string& s) {
    Forced f;
    const auto slash = s.find('/');
    if (slash == std::string::npos) return f;
    const int num = std::atoi(s.substr(0, slash).c_str());
    const int den = std::atoi(s.substr(slash + 1).c_str());
    if (num <= 0 || den <= 0) return f;
    if (den == 8 && num % 3 == 0 && num > 3) {
        f.m = num / 3;
        f.compound = true;
    } else {
        f.m = num;
    }
    return f;
}

// Bar-phase HMM (see analyze_bars): jump probability per beat and the logit offset of the accent.
constexpr double kBarPhaseJump = 2e-4;
constexpr double kBarPhaseLogitOffset = 1.0;
// Downbeat confidence = sigmoid(a * phase margin + b) (tools/train_rhythm/fit_bar_phase.py).
constexpr double kDownbeatCalibration[] = {1.212, -0.32846};

}  // namespace

std::vector<int> decode_bar_positions(const std::vector<double>& accent, int m) {
    const size_t n = accent.size();
    std::vector<int> out(n, 0);
    if (n == 0 || m < 1) return out;
    if (m == 1) return out;
    const auto mu = static_cast<size_t>(m);
    const double stay = std::log(1.0 - kBarPhaseJump);
    const double jump = std::log(kBarPhaseJump / m);
    auto log_sigmoid = [](double x) { return x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x)); };
    std::vector<double> delta(mu), next(mu);
    std::vector<int> back(n * mu, 0);
    auto emission = [&](size_t i, size_t k) {
        const double logit = accent[i] - kBarPhaseLogitOffset;
        return k == 0 ? log_sigmoid(logit) : log_sigmoid(-logit);
    };
    for (size_t k = 0; k < mu; ++k) delta[k] = emission(0, k) - std::log(static_cast<double>(m));
    for (size_t i = 1; i < n; ++i) {
        const auto best_any = static_cast<size_t>(std::max_element(delta.begin(), delta.end()) - delta.begin());
        const double from_jump = delta[best_any] + jump;
        for (size_t k = 0; k < mu; ++k) {
            const size_t prev = (k + mu - 1) % mu;
            const double from_prev = delta[prev] + stay;
            const bool jumped = from_jump > from_prev;
            back[i * mu + k] = static_cast<int>(jumped ? best_any : prev);
            next[k] = (jumped ? from_jump : from_prev) + emission(i, k);
        }
        delta.swap(next);
    }
    auto s = static_cast<size_t>(std::max_element(delta.begin(), delta.end()) - delta.begin());
    for (size_t i = n; i-- > 0;) {
        out[i] = static_cast<int>(s);
        if (i > 0) s = static_cast<size_t>(back[i * mu + s]);
    }
    return out;
}

BarResult analyze_bars(const BarInput& in) {
    BarResult r;
    const size_t nb = in.beats.size();
    r.positions.assign(nb, 1);
    if (nb < 2) return r;
    Vec low(nb), all(nb), harm(nb), harm2(nb);
    for (size_t i = 0; i < nb; ++i) {
        const double b = in.beats[i];
        const double ibi = i + 1 < nb ? in.beats[i + 1] - b : b - in.beats[i - 1];
        low[i] = max_in(in.onset_low, in.fr, b - 0.04, b + 0.06);
        all[i] = max_in(in.onset, in.fr, b - 0.04, b + 0.06);
        harm[i] = cosine_distance(mean_chroma(in, b - ibi, b), mean_chroma(in, b, b + ibi));
        harm2[i] = cosine_distance(mean_chroma(in, b - 2 * ibi, b), mean_chroma(in, b, b + 2 * ibi));
    }
    if (in.debug) {
        char buf[256];
        for (size_t i = 0; i < nb; ++i) {
            const double b = in.beats[i];
            const double mi = in.onset_mid ? max_in(*in.onset_mid, in.fr, b - 0.04, b + 0.06) : 0.0;
            const double hi = in.onset_high ? max_in(*in.onset_high, in.fr, b - 0.04, b + 0.06) : 0.0;
            const double ibi = i + 1 < nb ? in.beats[i + 1] - b : b - in.beats[i - 1];
            const double h4 = cosine_distance(mean_chroma(in, b - 4 * ibi, b), mean_chroma(in, b, b + 4 * ibi));
            const double h3 = cosine_distance(mean_chroma(in, b - 3 * ibi, b), mean_chroma(in, b, b + 3 * ibi));
            const double hh = cosine_distance(mean_chroma(in, b - 0.5 * ibi, b), mean_chroma(in, b, b + 0.5 * ibi));
            std::snprintf(buf, sizeof buf, "%.3f %.4f %.4f %.4f %.4f %.4f %.4f %.4f %.4f %.4f;", b, low[i], all[i], mi,
                          hi, harm[i], harm2[i], h4, h3, hh);
            r.debug += buf;
        }
    }
    // Subdivision: triplet (1/3, 2/3) against duple (1/2) onsets between beats.
    double trip = 0.0, dup = 0.0, on = 0.0;
    for (size_t i = 0; i + 1 < nb; ++i) {
        const double b = in.beats[i], ibi = in.beats[i + 1] - b;
        const double v1 = max_in(in.onset, in.fr, b + ibi / 3.0 - 0.015, b + ibi / 3.0 + 0.015);
        const double v2 = max_in(in.onset, in.fr, b + 2.0 * ibi / 3.0 - 0.015, b + 2.0 * ibi / 3.0 + 0.015);
        trip += std::sqrt(v1 * v2);
        dup += max_in(in.onset, in.fr, b + ibi / 2.0 - 0.015, b + ibi / 2.0 + 0.015);
        on += all[i];
    }
    const bool compound_auto = trip > 1.2 * dup && trip > 0.25 * on;
    // learned downbeat activation at each beat (as a logit), when given
    Vec down(nb, 0.0);
    const bool learned = in.downbeat_activation != nullptr && in.downbeat_weight > 0.0;
    if (learned) {
        for (size_t i = 0; i < nb; ++i) {
            const double p = std::clamp(max_in(*in.downbeat_activation, in.fr, in.beats[i] - 0.05, in.beats[i] + 0.05),
                                        1e-4, 1.0 - 1e-4);
            down[i] = std::log(p / (1.0 - p));
        }
        znorm(down);
    }
    znorm(low);
    znorm(all);
    znorm(harm);
    znorm(harm2);
    // Accent weights (low-band onset, 1-beat and 2-beat harmonic change, broadband onset), chosen on the dev corpus.
    constexpr double w[4] = {0.5, 1.0, 0.0, 1.0};
    Vec acc(nb);
    for (size_t i = 0; i < nb; ++i)
        acc[i] = w[0] * low[i] + w[1] * harm[i] + w[2] * all[i] + w[3] * harm2[i] + in.downbeat_weight * down[i];

    struct MScore {
        int m;
        double score;
        int phase;
        double margin;
        double prior;
    };
    std::vector<MScore> ms;
    for (int m : {2, 3, 4, 5, 7}) {
        if (static_cast<size_t>(2 * m) > nb) continue;
        Vec s(static_cast<size_t>(m), 0.0);
        std::vector<int> cnt(static_cast<size_t>(m), 0);
        for (size_t i = 0; i < nb; ++i) {
            s[i % static_cast<size_t>(m)] += acc[i];
            cnt[i % static_cast<size_t>(m)]++;
        }
        for (size_t k = 0; k < s.size(); ++k) s[k] /= std::max(1, cnt[k]);
        const auto best = static_cast<size_t>(std::max_element(s.begin(), s.end()) - s.begin());
        double second = -std::numeric_limits<double>::infinity();
        for (size_t k = 0; k < s.size(); ++k)
            if (k != best) second = std::max(second, s[k]);
        const double prior = m == 4 ? 0.25 : (m == 3 ? 0.0 : (m == 2 ? -0.5 : -0.4));
        ms.push_back({m, s[best], static_cast<int>(best), s[best] - second, prior});
    }
    if (ms.empty()) return r;
    const Forced forced = parse_meter(in.forced_meter);
    size_t pick = 0;
    double best_total = -std::numeric_limits<double>::infinity();
    for (size_t k = 0; k < ms.size(); ++k) {
        const double total = ms[k].score + ms[k].prior;
        if (forced.m > 0 ? ms[k].m == forced.m : total > best_total) {
            if (forced.m > 0) {
                pick = k;
                break;
            }
            best_total = total;
            pick = k;
        }
    }
    const bool compound = forced.m > 0 ? forced.compound : compound_auto;
    const int m = ms[pick].m;
    // Bar phase of the chosen meter: its own accent weights (low-band onset, 1-beat and 2-beat
    // harmonic change), fitted on POP909 songs 201-373 (the meter choice keeps the weights above).
    constexpr double wp[3] = {1.0, 1.0, 0.4};
    Vec accent(nb);
    for (size_t i = 0; i < nb; ++i)
        accent[i] = wp[0] * low[i] + wp[1] * harm[i] + wp[2] * harm2[i] + in.downbeat_weight * down[i];
    Vec ph(static_cast<size_t>(m), 0.0);
    std::vector<int> phc(static_cast<size_t>(m), 0);
    for (size_t i = 0; i < nb; ++i) {
        ph[i % static_cast<size_t>(m)] += accent[i];
        phc[i % static_cast<size_t>(m)]++;
    }
    for (size_t k = 0; k < ph.size(); ++k) ph[k] /= std::max(1, phc[k]);
    const int phase = static_cast<int>(std::max_element(ph.begin(), ph.end()) - ph.begin());
    double phase_second = -std::numeric_limits<double>::infinity();
    for (size_t k = 0; k < ph.size(); ++k)
        if (static_cast<int>(k) != phase) phase_second = std::max(phase_second, ph[k]);
    const double phase_margin = ph.size() > 1 ? ph[static_cast<size_t>(phase)] - phase_second : 0.0;
    // bar_phase "hmm": the bar phase may change inside a track (a 2/4 bar in a 4/4 song, a beat
    // the tracker dropped or added): the positions are decoded by an HMM over the bar positions
    // (Viterbi) whose emission is the accent read as a downbeat logit, and which keeps counting
    // (k -> k+1) except with a small jump probability. "fold" (default): the best fold over the
    // whole track, one phase. The HMM gains on beatles-dev and loses on the renders (README).
    std::vector<int> pos(nb);
    if (in.phase_jumps) {
        pos = decode_bar_positions(accent, m);
    } else {
        for (size_t i = 0; i < nb; ++i) pos[i] = static_cast<int>((static_cast<std::ptrdiff_t>(i) - phase) % m + m) % m;
    }
    for (size_t i = 0; i < nb; ++i) {
        r.positions[i] = pos[i] + 1;
        if (pos[i] == 0) r.downbeats.push_back(in.beats[i]);
    }
    r.numerator = compound ? 3 * m : m;
    r.denominator = compound || m == 7 ? 8 : 4;
    r.label = label_for(m, compound);
    // candidates: softmax over meters
    double zsum = 0.0;
    // (normalised by the best total of all meters: with a forced meter best_total is not set, and
    // exp(x - -inf) made every probability NaN, a Song Map the schema refuses)
    double top = -std::numeric_limits<double>::infinity();
    for (const auto& x : ms) top = std::max(top, x.score + x.prior);
    for (const auto& x : ms) zsum += std::exp(4.0 * (x.score + x.prior - top));
    for (const auto& x : ms)
        r.candidates.push_back(
            {label_for(x.m, compound), std::clamp(std::exp(4.0 * (x.score + x.prior - top)) / zsum, 0.0, 1.0)});
    std::sort(r.candidates.begin(), r.candidates.end(),
              [](const auto& a, const auto& b) { return a.probability > b.probability; });
    r.confidence = r.candidates.empty() ? 0.0 : r.candidates.front().probability;
    // Probability that the downbeats are right (at least 75 % of them on an annotated downbeat),
    // from the margin of the best bar phase: logistic calibration fitted by
    // tools/train_rhythm/fit_bar_phase.py (beatles-dev and POP909 renders 201-334).
    r.downbeat_confidence =
        ph.size() > 1 ? 1.0 / (1.0 + std::exp(-(kDownbeatCalibration[0] * phase_margin + kDownbeatCalibration[1])))
                      : 0.0;
    return r;
}

}  // namespace harmony::rhythm
