#include "analyzers/notes/transcribe.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>

namespace harmony::analyzers::notes {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

double median_of(std::vector<float> v) {
    if (v.empty()) return 0.0;
    const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
    std::nth_element(v.begin(), mid, v.end());
    return *mid;
}

}  // namespace

PitchTrack track_pitch(std::span<const std::span<const Candidate>> frames, const TrackConfig& cfg) {
    const size_t T = frames.size();
    PitchTrack out;
    out.midi.assign(T, 0.0f);
    out.guess.assign(T, 0.0f);
    out.strength.assign(T, 0.0f);
    out.harmonic.assign(T, 0.0f);
    if (T == 0) return out;

    // Reference salience: a high percentile of the frame-best harmonic candidate.
    std::vector<float> best;
    for (const auto& f : frames)
        for (const auto& c : f)
            if (c.harmonic >= cfg.min_harmonic) {
                best.push_back(c.salience);
                break;
            }
    if (best.empty()) {
        for (size_t t = 0; t < T; ++t)
            if (!frames[t].empty()) out.guess[t] = frames[t][0].midi;
        return out;
    }
    const auto k = static_cast<std::ptrdiff_t>(
        std::min(best.size() - 1, static_cast<size_t>(cfg.ref_percentile * static_cast<double>(best.size()))));
    std::nth_element(best.begin(), best.begin() + k, best.end());
    const double ref = std::max(1e-12, static_cast<double>(best[static_cast<size_t>(k)]));
    const double unvoiced_score = std::log(cfg.voicing);

    // Viterbi: state j < n_t is candidate j of frame t (when harmonic enough), n_t is unvoiced.
    std::vector<std::vector<double>> score(T);
    std::vector<std::vector<std::uint8_t>> back(T);
    auto emission = [&](size_t t, size_t j) {
        const auto& c = frames[t][j];
        if (c.harmonic < cfg.min_harmonic) return kNegInf;
        return std::log(std::max(1e-9, c.salience / ref)) + cfg.pitch_bias * (c.midi - 60.0) / 12.0;
    };
    for (size_t t = 0; t < T; ++t) {
        const size_t n = frames[t].size();
        score[t].assign(n + 1, kNegInf);
        back[t].assign(n + 1, 0);
        for (size_t j = 0; j <= n; ++j) {
            const double e = j < n ? emission(t, j) : unvoiced_score;
            if (e == kNegInf) continue;
            if (t == 0) {
                score[t][j] = e;
                continue;
            }
            const size_t m = frames[t - 1].size();
            double bestv = kNegInf;
            std::uint8_t arg = 0;
            for (size_t i = 0; i <= m; ++i) {
                const double s = score[t - 1][i];
                if (s == kNegInf) continue;
                double tr = 0.0;
                if (i < m && j < n) {
                    const double d = std::abs(frames[t - 1][i].midi - frames[t][j].midi);
                    tr = -cfg.jump_cost * std::min(d, cfg.max_jump_st);
                } else if ((i < m) != (j < n)) {
                    tr = -cfg.voicing_cost;
                }
                if (s + tr > bestv) {
                    bestv = s + tr;
                    arg = static_cast<std::uint8_t>(i);
                }
            }
            score[t][j] = bestv + e;
            back[t][j] = arg;
        }
    }
    size_t j = frames[T - 1].size();
    for (size_t i = 0; i < score[T - 1].size(); ++i)
        if (score[T - 1][i] > score[T - 1][j]) j = i;
    for (size_t t = T; t-- > 0;) {
        const size_t n = frames[t].size();
        if (n > 0) out.guess[t] = frames[t][0].midi;
        if (j < n) {
            out.midi[t] = frames[t][j].midi;
            out.guess[t] = frames[t][j].midi;
            out.strength[t] = static_cast<float>(frames[t][j].salience / ref);
            out.harmonic[t] = frames[t][j].harmonic;
        }
        if (t > 0) j = back[t][j];
    }
    return out;
}

double estimate_tuning_cents(const PitchTrack& track) {
    double sx = 0.0, sy = 0.0;
    for (size_t t = 0; t < track.midi.size(); ++t) {
        if (track.midi[t] <= 0.0f) continue;
        const double a = 2.0 * std::numbers::pi * (track.midi[t] - std::round(track.midi[t]));
        sx += track.strength[t] * std::cos(a);
        sy += track.strength[t] * std::sin(a);
    }
    if (sx == 0.0 && sy == 0.0) return 0.0;
    double c = 100.0 * std::atan2(sy, sx) / (2.0 * std::numbers::pi);
    if (c >= 50.0) c -= 100.0;
    return c;
}

std::vector<Note> segment_notes(const PitchTrack& track, const NoteConfig& cfg) {
    std::vector<Note> notes;
    const size_t T = track.midi.size();
    const int half = std::max(1, static_cast<int>(std::lround(cfg.median_s / cfg.frame_s / 2.0)));
    const size_t min_frames = std::max<size_t>(1, static_cast<size_t>(std::lround(cfg.min_note_s / cfg.frame_s)));
    const int rise_frames = std::max(2, static_cast<int>(std::lround(0.05 / cfg.frame_s)));
    size_t a = 0;
    while (a < T) {
        if (track.midi[a] <= 0.0f) {
            ++a;
            continue;
        }
        size_t b = a;
        while (b < T && track.midi[b] > 0.0f) ++b;
        // Running median of the run's pitch.
        std::vector<float> pm(b - a);
        for (size_t t = a; t < b; ++t) {
            const size_t lo = t >= a + static_cast<size_t>(half) ? t - static_cast<size_t>(half) : a;
            const size_t hi = std::min(b, t + static_cast<size_t>(half) + 1);
            pm[t - a] =
                static_cast<float>(median_of(std::vector<float>(track.midi.begin() + static_cast<std::ptrdiff_t>(lo),
                                                                track.midi.begin() + static_cast<std::ptrdiff_t>(hi))));
        }
        // Cuts: pitch changes (hysteresis) and re-attacks.
        std::vector<size_t> cuts = {a};
        double level_sum = pm[0];
        size_t level_n = 1;
        int dev = 0;
        for (size_t t = a + 1; t < b; ++t) {
            const double level = level_sum / static_cast<double>(level_n);
            if (std::abs(pm[t - a] - level) > cfg.change_st) {
                if (++dev >= 3) {
                    const size_t cut = t - 2;
                    cuts.push_back(cut);
                    level_sum = 0.0;
                    level_n = 0;
                    for (size_t u = cut; u <= t; ++u) {
                        level_sum += pm[u - a];
                        ++level_n;
                    }
                    dev = 0;
                }
                continue;
            }
            dev = 0;
            level_sum += pm[t - a];
            ++level_n;
        }
        // Re-attacks: the log strength rises by onset_rise over rise_frames (a local maximum of the rise).
        auto rise = [&](size_t t) {
            if (t < a + static_cast<size_t>(rise_frames)) return 0.0;
            double lo = 1e9;
            for (size_t u = t - static_cast<size_t>(rise_frames); u < t; ++u)
                lo = std::min(lo, std::log(std::max(1e-9, static_cast<double>(track.strength[u]))));
            return std::log(std::max(1e-9, static_cast<double>(track.strength[t]))) - lo;
        };
        for (size_t t = a + 1; t + 1 < b; ++t) {
            const double r = rise(t);
            if (r > cfg.onset_rise && r >= rise(t - 1) && r > rise(t + 1)) {
                // The note starts where the strength began to climb.
                size_t s = t;
                while (s > a + 1 && track.strength[s - 1] < track.strength[s] &&
                       t - s < static_cast<size_t>(rise_frames))
                    --s;
                cuts.push_back(s);
            }
        }
        std::sort(cuts.begin(), cuts.end());
        cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
        cuts.push_back(b);
        // Pieces and their pitches; short ones join the neighbour of nearest pitch.
        struct Piece {
            size_t s, e;
            double pitch;
        };
        std::vector<Piece> pieces;
        auto piece_pitch = [&](size_t s, size_t e) {
            const size_t trim = (e - s) / 5;
            return median_of(std::vector<float>(track.midi.begin() + static_cast<std::ptrdiff_t>(s + trim),
                                                track.midi.begin() + static_cast<std::ptrdiff_t>(e - trim)));
        };
        for (size_t i = 0; i + 1 < cuts.size(); ++i)
            if (cuts[i + 1] > cuts[i]) pieces.push_back({cuts[i], cuts[i + 1], piece_pitch(cuts[i], cuts[i + 1])});
        // A piece is stable when most of its frames sit near its pitch; a glide (scoop, fall, slide)
        // is not, and joins a neighbour like a piece that is too short.
        auto stable = [&](const Piece& p) {
            size_t near = 0;
            for (size_t t = p.s; t < p.e; ++t) near += std::abs(track.midi[t] - p.pitch) <= 0.35 ? 1 : 0;
            return static_cast<double>(near) >= 0.5 * static_cast<double>(p.e - p.s);
        };
        while (pieces.size() > 1) {
            size_t pick = pieces.size();
            for (size_t i = 0; i < pieces.size(); ++i) {
                const bool short_piece = pieces[i].e - pieces[i].s < min_frames;
                if (!short_piece && stable(pieces[i])) continue;
                if (pick == pieces.size() || pieces[i].e - pieces[i].s < pieces[pick].e - pieces[pick].s) pick = i;
            }
            if (pick == pieces.size()) break;
            const size_t i = pick;
            size_t into;
            if (i == 0)
                into = 1;
            else if (i + 1 == pieces.size())
                into = i - 1;
            else
                into =
                    std::abs(pieces[i - 1].pitch - pieces[i].pitch) <= std::abs(pieces[i + 1].pitch - pieces[i].pitch)
                        ? i - 1
                        : i + 1;
            const bool adopt_pitch = !stable(pieces[into]) && stable(pieces[i]);
            pieces[into].s = std::min(pieces[into].s, pieces[i].s);
            pieces[into].e = std::max(pieces[into].e, pieces[i].e);
            if (adopt_pitch) pieces[into].pitch = pieces[i].pitch;
            pieces.erase(pieces.begin() + static_cast<std::ptrdiff_t>(i));
        }
        for (const auto& p : pieces) {
            if (p.e - p.s < min_frames || !stable(p)) continue;
            // Percussive: the strength falls faster than decay_per_s from its peak (drum bodies, kicks).
            // The last 50 ms are left out: the analysis window's own fade as the note ends.
            const size_t end = p.e - std::min(p.e - p.s, min_frames);
            size_t pk = p.s;
            for (size_t t = p.s; t < end; ++t)
                if (track.strength[t] > track.strength[pk]) pk = t;
            if (end >= pk + 8) {
                double sx = 0, sy = 0, sxx = 0, sxy = 0;
                const double n = static_cast<double>(end - pk);
                for (size_t t = pk; t < end; ++t) {
                    const double x = static_cast<double>(t - pk) * cfg.frame_s;
                    const double y = std::log(std::max(1e-9, static_cast<double>(track.strength[t])));
                    sx += x;
                    sy += y;
                    sxx += x * x;
                    sxy += x * y;
                }
                const double den = n * sxx - sx * sx;
                const double slope = den > 0.0 ? (n * sxy - sx * sy) / den : 0.0;
                if (slope < -cfg.max_decay_per_s) continue;
            }
            double strength = 0.0, harmonic = 0.0;
            for (size_t t = p.s; t < p.e; ++t) {
                strength += track.strength[t];
                harmonic += track.harmonic[t];
            }
            strength /= static_cast<double>(p.e - p.s);
            if (harmonic / static_cast<double>(p.e - p.s) < cfg.min_note_harmonic) continue;
            Note n;
            n.onset_s = static_cast<double>(p.s) * cfg.frame_s;
            n.offset_s = static_cast<double>(p.e) * cfg.frame_s;
            n.pitch_midi = std::round(p.pitch - cfg.tuning_cents / 100.0);
            n.velocity = std::clamp(std::round(80.0 + 20.0 * std::log(std::max(1e-6, strength))), 1.0, 127.0);
            n.confidence = std::clamp(1.0 - std::exp(-strength * 2.0), 0.0, 1.0);
            notes.push_back(n);
        }
        a = b;
    }
    return notes;
}

}  // namespace harmony::analyzers::notes
