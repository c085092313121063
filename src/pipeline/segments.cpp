#include "pipeline/segments.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "analyzers/rhythm/rhythm_internal.hpp"

namespace harmony::pipeline {

namespace {

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

double kept(const SegmentResult& s) {
    return std::max(0.0, s.keep_to_s - s.keep_from_s);
}

std::string window_name(const SegmentResult& s) {
    return "segment " + clock_label(s.keep_from_s) + "-" + clock_label(s.keep_to_s);
}

bool inside(const SegmentResult& s, double t) {
    return t >= s.keep_from_s && t < s.keep_to_s;
}

/// Weighted median of (value, weight) pairs.
double weighted_median(std::vector<std::pair<double, double>> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    double total = 0.0;
    for (const auto& p : v) total += p.second;
    double acc = 0.0;
    for (const auto& p : v) {
        acc += p.second;
        if (acc >= 0.5 * total) return p.first;
    }
    return v.back().first;
}

/// Appends times inside the segment's window, dropping one that falls closer than min_gap_s to
/// the last kept time (the same beat seen by two segments near the cut).
template <class Extra>
void append_times(const std::vector<double>& times, const SegmentResult& s, double min_gap_s, std::vector<double>& out,
                  Extra&& extra) {
    for (size_t i = 0; i < times.size(); ++i) {
        const double t = times[i];
        if (!inside(s, t)) continue;
        if (!out.empty() && t - out.back() < min_gap_s) continue;
        out.push_back(t);
        extra(i);
    }
}

double median_interval(const std::vector<double>& t) {
    std::vector<double> d;
    for (size_t i = 1; i < t.size(); ++i) d.push_back(t[i] - t[i - 1]);
    return rhythm::detail::median(std::move(d));
}

void merge_tempo(const std::vector<SegmentResult>& segs, const std::string& method, double total, SongMap& out) {
    const Tempo* first = nullptr;
    std::vector<std::pair<double, double>> bpms;
    for (const auto& s : segs)
        if (s.map.tempo) {
            if (!first) first = &*s.map.tempo;
            if (s.map.tempo->bpm) bpms.emplace_back(*s.map.tempo->bpm, kept(s));
        }
    if (!first) return;
    Tempo t;
    t.range_min_bpm = first->range_min_bpm;
    t.range_max_bpm = first->range_max_bpm;
    for (const auto& s : segs) {
        if (!s.map.tempo) continue;
        const Tempo& st = *s.map.tempo;
        t.estimators.push_back({window_name(s), st.bpm ? fmt("%.2f", *st.bpm) : "no tempo", st.confidence,
                                st.bpm ? (st.stable ? "stable" : "tempo varies") : st.no_tempo_reason});
    }
    if (bpms.empty()) {
        t.bpm.reset();
        t.no_tempo_reason = first->no_tempo_reason.empty() ? "no tempo in any segment" : first->no_tempo_reason;
        t.stable = false;
        t.decision = method + "; no segment has a tempo: " + t.no_tempo_reason;
        out.tempo = std::move(t);
        return;
    }
    const double med = weighted_median(bpms);
    // The answer: the duration-weighted mean of the segment tempi within 2 % of the median (the
    // median picks the dominant tempo of a mix; the mean restores the 0.01 BPM resolution).
    double num = 0.0, den = 0.0, agree = 0.0;
    for (const auto& [b, w] : bpms) {
        if (std::abs(b / med - 1.0) < 0.02) {
            num += b * w;
            den += w;
        }
        if (std::abs(b / med - 1.0) < 0.04) agree += w;
    }
    const double bpm = den > 0 ? num / den : med;
    const double share = total > 0 ? agree / total : 0.0;
    double conf = 0.0, stable_share = 0.0;
    const Tempo* nearest = nullptr;
    for (const auto& s : segs) {
        if (!s.map.tempo) continue;
        const Tempo& st = *s.map.tempo;
        conf += st.confidence * kept(s);
        if (st.bpm && st.stable && std::abs(*st.bpm / bpm - 1.0) < 0.005) stable_share += kept(s);
        if (st.bpm && (!nearest || std::abs(*st.bpm - bpm) < std::abs(*nearest->bpm - bpm))) nearest = &st;
        for (const auto& p : st.curve)
            if (inside(s, p.time_s)) t.curve.push_back(p);
    }
    t.bpm = bpm;
    t.confidence = std::clamp(total > 0 ? conf / total * share : 0.0, 0.0, 1.0);
    t.stable = total > 0 && stable_share / total > 0.9;
    for (auto a : nearest->alternatives) {
        a.bpm *= bpm / *nearest->bpm;
        t.alternatives.push_back(a);
    }
    t.estimators.push_back({"segment_median", fmt("%.2f", bpm), std::clamp(share, 0.0, 1.0),
                            "chosen: duration-weighted median of the segment tempi"});
    t.decision = method + "; tempo is the duration-weighted median of the " + std::to_string(bpms.size()) +
                 " segment tempi (" + fmt("%.0f", 100.0 * share) + " % of the audio within 4 % of it); " +
                 (t.stable ? "the tempo is the same throughout" : "the tempo changes along the file (see the curve)");
    out.tempo = std::move(t);
}

void merge_beats(const std::vector<SegmentResult>& segs, SongMap& out) {
    bool any = false;
    Beats b;
    double conf = 0.0, total = 0.0;
    bool all_constant = true;
    for (const auto& s : segs) {
        if (!s.map.beats) continue;
        any = true;
        const Beats& sb = *s.map.beats;
        const double ibi = median_interval(sb.times_s);
        const bool has_pos = sb.positions.size() == sb.times_s.size();
        append_times(sb.times_s, s, 0.5 * ibi, b.times_s,
                     [&](size_t i) { b.positions.push_back(has_pos ? sb.positions[i] : 1); });
        conf += sb.confidence * kept(s);
        total += kept(s);
        if (!sb.times_s.empty() && !sb.grid.constant) all_constant = false;
    }
    if (!any) return;
    b.confidence = total > 0 ? std::clamp(conf / total, 0.0, 1.0) : 0.0;
    // One constant grid for the whole file only if every beat lies on a single straight line.
    b.grid.constant = false;
    if (b.times_s.size() >= 4) {
        const auto fit = rhythm::detail::fit_line(b.times_s);
        b.grid.constant = all_constant && fit.slope > 0 && fit.max_abs_residual < 0.03;
        b.grid.bpm = fit.slope > 0 ? 60.0 / (b.grid.constant ? fit.slope : median_interval(b.times_s)) : 0.0;
    }
    if (!b.grid.constant && out.tempo && out.tempo->bpm) b.grid.bpm = *out.tempo->bpm;
    b.grid.first_beat_s = b.times_s.empty() ? 0.0 : b.times_s.front();
    b.grid.first_downbeat_s = b.grid.first_beat_s;
    for (size_t i = 0; i < b.times_s.size() && i < b.positions.size(); ++i)
        if (b.positions[i] == 1) {
            b.grid.first_downbeat_s = b.times_s[i];
            break;
        }
    out.beats = std::move(b);
}

void merge_downbeats(const std::vector<SegmentResult>& segs, SongMap& out) {
    bool any = false;
    Downbeats d;
    double conf = 0.0, total = 0.0;
    for (const auto& s : segs) {
        if (!s.map.downbeats) continue;
        any = true;
        const auto& sd = *s.map.downbeats;
        append_times(sd.times_s, s, 0.5 * median_interval(sd.times_s), d.times_s, [](size_t) {});
        conf += sd.confidence * kept(s);
        total += kept(s);
    }
    if (!any) return;
    d.confidence = total > 0 ? std::clamp(conf / total, 0.0, 1.0) : 0.0;
    out.downbeats = std::move(d);
}

void merge_meter(const std::vector<SegmentResult>& segs, SongMap& out) {
    std::map<std::string, double> weight, conf, dur;
    std::map<std::string, const Meter*> example;
    double total = 0.0;
    for (const auto& s : segs) {
        if (!s.map.meter) continue;
        const Meter& m = *s.map.meter;
        weight[m.label] += kept(s) * std::max(0.05, m.confidence);
        conf[m.label] += kept(s) * m.confidence;
        dur[m.label] += kept(s);
        total += kept(s) * std::max(0.05, m.confidence);
        if (!example.count(m.label)) example[m.label] = &m;
    }
    if (weight.empty()) return;
    const auto best = std::max_element(weight.begin(), weight.end(), [](const auto& a, const auto& b) {
                          return a.second < b.second;
                      })->first;
    Meter m = *example[best];
    const double share = total > 0 ? weight[best] / total : 0.0;
    m.confidence = std::clamp(dur[best] > 0 ? conf[best] / dur[best] * share : 0.0, 0.0, 1.0);
    m.candidates.clear();
    for (const auto& [label, w] : weight) m.candidates.push_back({label, total > 0 ? w / total : 0.0});
    std::sort(m.candidates.begin(), m.candidates.end(),
              [](const auto& a, const auto& b) { return a.probability > b.probability; });
    out.meter = std::move(m);
}

void merge_key(const std::vector<SegmentResult>& segs, const std::string& method, double total, SongMap& out) {
    const Key* first = nullptr;
    std::map<std::string, double> weight, conf, dur;
    std::map<std::string, const KeyName*> names;
    double keyed = 0.0, tuning_w = 0.0, tuning_conf = 0.0;
    double cs = 0.0, cc = 0.0;  // circular mean of the tuning offsets (cents wrap at +-50)
    std::map<std::string, double> modal_weight;
    std::map<std::string, const ModalKey*> modal_example;
    Key k;
    for (const auto& s : segs) {
        if (!s.map.key) continue;
        const Key& sk = *s.map.key;
        if (!first) first = &sk;
        const double w = kept(s);
        k.estimators.push_back(
            {window_name(s), sk.key ? sk.key->label : "no key", sk.confidence, sk.key ? "" : sk.no_key_reason});
        const double tw = w * std::max(1e-3, sk.tuning.confidence);
        const double ang = 2.0 * M_PI * sk.tuning.cents / 100.0;
        cs += tw * std::sin(ang);
        cc += tw * std::cos(ang);
        tuning_w += tw;
        tuning_conf += w * sk.tuning.confidence;
        if (!sk.key) continue;
        keyed += w;
        weight[sk.key->label] += w * std::max(0.05, sk.confidence);
        conf[sk.key->label] += w * sk.confidence;
        dur[sk.key->label] += w;
        if (!names.count(sk.key->label)) names[sk.key->label] = &*sk.key;
        if (sk.modal) {
            modal_weight[sk.modal->label] += w * std::max(0.05, sk.modal->confidence);
            if (!modal_example.count(sk.modal->label)) modal_example[sk.modal->label] = &*sk.modal;
        }
        for (const auto& seg : sk.segments) {
            KeySegment c = seg;
            c.start_s = std::max(c.start_s, s.keep_from_s);
            c.end_s = std::min(c.end_s, s.keep_to_s);
            if (c.end_s <= c.start_s) continue;
            if (!k.segments.empty() && k.segments.back().key.label == c.key.label &&
                std::abs(k.segments.back().end_s - c.start_s) < 1e-6) {
                auto& last = k.segments.back();
                const double a = last.end_s - last.start_s, b = c.end_s - c.start_s;
                last.confidence = (last.confidence * a + c.confidence * b) / (a + b);
                last.end_s = c.end_s;
            } else {
                k.segments.push_back(c);
            }
        }
    }
    if (!first) return;
    if (tuning_w > 0) {
        k.tuning.cents = std::atan2(cs, cc) * 100.0 / (2.0 * M_PI);
        k.tuning.a4_hz = 440.0 * std::pow(2.0, k.tuning.cents / 1200.0);
        k.tuning.confidence = total > 0 ? std::clamp(tuning_conf / total, 0.0, 1.0) : 0.0;
    }
    k.estimators.push_back({"tuning", fmt("%.2f", k.tuning.a4_hz) + " Hz (" + fmt("%.1f", k.tuning.cents) + " cents)",
                            k.tuning.confidence, "duration- and confidence-weighted circular mean of the segments"});
    if (total <= 0 || keyed < 0.25 * total) {
        k.key.reset();
        k.no_key_reason = first->no_key_reason.empty() ? "no key in most of the file" : first->no_key_reason;
        k.confidence = 0.0;
        k.segments.clear();
        k.estimators.push_back(
            {"segment_vote", "no key", 0.0,
             "key found in " + fmt("%.0f", total > 0 ? 100.0 * keyed / total : 0.0) + " % of the audio (needs 25 %)"});
        out.key = std::move(k);
        return;
    }
    double wsum = 0.0;
    for (const auto& [label, w] : weight) wsum += w;
    const std::string best = std::max_element(weight.begin(), weight.end(), [](const auto& a, const auto& b) {
                                 return a.second < b.second;
                             })->first;
    k.key = *names[best];
    const double share = weight[best] / wsum;
    k.confidence = std::clamp(conf[best] / dur[best] * share * keyed / total, 0.0, 1.0);
    for (const auto& [label, w] : weight)
        if (label != best) k.candidates.push_back({*names[label], w / wsum});
    std::sort(k.candidates.begin(), k.candidates.end(), [](const auto& a, const auto& b) { return a.score > b.score; });
    if (k.candidates.size() > 5) k.candidates.resize(5);
    for (const auto& s : segs)
        if (s.map.key && s.map.key->key && s.map.key->key->label == best) {
            k.compatible_camelot = s.map.key->compatible_camelot;
            break;
        }
    if (!modal_weight.empty()) {
        const auto mb = std::max_element(modal_weight.begin(), modal_weight.end(), [](const auto& a, const auto& b) {
                            return a.second < b.second;
                        })->first;
        ModalKey mk = *modal_example[mb];
        double mt = 0.0;
        for (const auto& [label, w] : modal_weight) mt += w;
        mk.confidence = std::clamp(mk.confidence * modal_weight[mb] / mt, 0.0, 1.0);
        k.modal = mk;
    }
    k.estimators.push_back({"segment_vote", best, std::clamp(share, 0.0, 1.0),
                            "chosen: the key held longest (weighted by confidence) across the segments"});
    k.estimators.push_back({"key_changes",
                            std::to_string(k.segments.empty() ? 0 : k.segments.size() - 1) + " change(s)", k.confidence,
                            method});
    out.key = std::move(k);
}

}  // namespace

std::string clock_label(double seconds) {
    const auto s = static_cast<long>(std::floor(std::max(0.0, seconds) + 0.5));
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
    return buf;
}

void shift_times(SongMap& m, double d) {
    if (m.tempo)
        for (auto& p : m.tempo->curve) p.time_s += d;
    if (m.beats) {
        for (auto& t : m.beats->times_s) t += d;
        m.beats->grid.first_beat_s += d;
        m.beats->grid.first_downbeat_s += d;
    }
    if (m.downbeats)
        for (auto& t : m.downbeats->times_s) t += d;
    if (m.key)
        for (auto& s : m.key->segments) {
            s.start_s += d;
            s.end_s += d;
        }
    if (m.chords)
        for (auto& s : m.chords->segments) {
            s.start_s += d;
            s.end_s += d;
        }
    if (m.sections)
        for (auto& s : m.sections->segments) {
            s.start_s += d;
            s.end_s += d;
        }
    if (m.notes) {
        for (auto& n : m.notes->melody) {
            n.onset_s += d;
            n.offset_s += d;
        }
        for (auto& n : m.notes->bass) {
            n.onset_s += d;
            n.offset_s += d;
        }
    }
    if (m.lyrics)
        for (auto& l : m.lyrics->lines) {
            l.start_s += d;
            l.end_s += d;
        }
}

void merge_segments(const std::vector<SegmentResult>& segments, double segment_s, double overlap_s, SongMap& out) {
    if (segments.empty()) return;
    double total = 0.0;
    for (const auto& s : segments) total += kept(s);
    const std::string method = "long file (" + clock_label(segments.back().keep_to_s) + "): analysed in " +
                               std::to_string(segments.size()) + " segments of about " + clock_label(segment_s) +
                               " overlapping by " + fmt("%.0f", overlap_s) + " s, so memory stays bounded";
    merge_tempo(segments, method, total, out);
    merge_beats(segments, out);
    merge_downbeats(segments, out);
    merge_meter(segments, out);
    merge_key(segments, method, total, out);
}

}  // namespace harmony::pipeline
