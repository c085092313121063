#include "analyzers/beats/beats.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "analyzers/rhythm/rhythm.hpp"
#include "analyzers/rhythm/rhythm_internal.hpp"
#include "analyzers/tempo/tempo.hpp"

namespace harmony::analyzers {

const AnalyzerInfo& BeatsAnalyzer::describe() {
    static const AnalyzerInfo info{
        "beats",
        5,
        "Beat times with bar positions, constant beat grid or tempo-following beat map, downbeats, meter "
        "(2/4, 3/4, 4/4, 5/4, 6/8, 7/8, 9/8, 12/8)",
        {"tempo"},
        {"beats", "downbeats", "meter"},
        {
            {"meter",
             "Meter: auto, or force one (bar positions are then decoded for it)",
             ParamType::kString,
             std::string("auto"),
             0.0,
             0.0,
             {"auto", "2/4", "3/4", "4/4", "5/4", "6/8", "7/8", "9/8", "12/8"}},
            {"bar_phase",
             "Bar-phase decoding: fold (one phase per track) or hmm (the phase may jump: irregular bars)",
             ParamType::kString,
             std::string("fold"),
             0.0,
             0.0,
             {"fold", "hmm"}},
        }};
    return info;
}

Result<BeatsAnalyzer::Config> BeatsAnalyzer::configure(const ParamSet& p) {
    Config c;
    c.meter = p.get_string("meter");
    c.bar_phase = p.get_string("bar_phase");
    return c;
}

void BeatsAnalyzer::plan(features::FeatureCache& cache) const {
    cache.get<features::RhythmFeatures>();
}

Result<void> BeatsAnalyzer::analyze(Context& ctx) const {
    const auto rhythm = ctx.artifacts.get<RhythmArtifact>("tempo");
    if (rhythm == nullptr) return make_error(ErrorCode::kInternal, "the tempo analyzer's rhythm analysis is missing");
    const rhythm::Analysis* a = &rhythm->analysis;
    rhythm::Analysis forced;
    if (cfg_.meter != rhythm->params.meter ||
        cfg_.bar_phase != rhythm->params.bar_phase) {  // a forced meter or decoder: decode the bars again
        const auto* f = ctx.features.find<features::RhythmFeatures>();
        if (f == nullptr) return make_error(ErrorCode::kInternal, "rhythm features were not planned");
        rhythm::Params p = rhythm->params;
        p.meter = cfg_.meter;
        p.bar_phase = cfg_.bar_phase;
        forced = rhythm::analyze(*f, p);
        a = &forced;
    }
    if (!a->has_beats) {
        // No tempo: an empty, zero-confidence beat list (the tempo part says why).
        ctx.out.beats = Beats{};
        ctx.out.downbeats = Downbeats{};
        return {};
    }
    ctx.out.beats = a->beats;
    ctx.out.downbeats = a->downbeats;
    if (a->meter) ctx.out.meter = *a->meter;
    return {};
}

namespace {

using namespace pipeline;

void merge_beats(const std::vector<pipeline::SegmentResult>& segs, SongMap& out) {
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

void merge_downbeats(const std::vector<pipeline::SegmentResult>& segs, SongMap& out) {
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

void merge_meter(const std::vector<pipeline::SegmentResult>& segs, SongMap& out) {
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

}  // namespace

void BeatsAnalyzer::merge(const std::vector<pipeline::SegmentResult>& segments, const MergeInfo&, SongMap& out) const {
    merge_beats(segments, out);
    merge_downbeats(segments, out);
    merge_meter(segments, out);
}

}  // namespace harmony::analyzers
