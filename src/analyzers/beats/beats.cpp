#include "analyzers/beats/beats.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <variant>

#include "analyzers/rhythm/rhythm.hpp"
#include "analyzers/rhythm/rhythm_internal.hpp"
#include "analyzers/tempo/tempo.hpp"

namespace harmony::analyzers {

const AnalyzerInfo& BeatsAnalyzer::describe() {
    static const AnalyzerInfo info{
        "beats",
        7,
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
            input_param("input", "signal the beats are tracked on (another than the mix: tracked again on it)"),
        }};
    return info;
}

Result<BeatsAnalyzer::Config> BeatsAnalyzer::configure(const ParamSet& p) {
    Config c;
    c.meter = p.get_string("meter");
    c.bar_phase = p.get_string("bar_phase");
    c.input = input_from_name(p.get_string("input")).value_or(Input::kMix);
    return c;
}

void BeatsAnalyzer::plan(features::FeatureCache& cache) const {
    if (cfg_.input == Input::kMix) cache.get<features::RhythmFeatures>();
}

namespace {
/// The tempo analyzer's rhythm settings read back from its part's provenance: on a long file the
/// tempo analyzer runs on segments, so a beats analyzer reading a stem (whole file) gets no artifact.
std::optional<rhythm::Params> params_from_tempo_part(const SongMap& m) {
    if (!m.tempo) return std::nullopt;
    const auto& pv = m.tempo->provenance.params;
    rhythm::Params p;
    auto num = [&](const char* name, double& out) {
        if (auto it = pv.find(name); it != pv.end()) {
            if (const auto* d = std::get_if<double>(&it->second)) out = *d;
            if (const auto* i = std::get_if<std::int64_t>(&it->second)) out = static_cast<double>(*i);
        }
    };
    num("min_bpm", p.min_bpm);
    num("max_bpm", p.max_bpm);
    num("tightness", p.tightness);
    if (auto it = pv.find("snap_grid"); it != pv.end())
        if (const auto* b = std::get_if<bool>(&it->second)) p.snap_grid = *b;
    return p;
}
}  // namespace

Result<void> BeatsAnalyzer::analyze(Context& ctx) const {
    const auto rhythm = ctx.artifacts.get<RhythmArtifact>("tempo");
    std::optional<rhythm::Params> from_part;
    if (rhythm == nullptr && cfg_.input != Input::kMix) from_part = params_from_tempo_part(ctx.inputs);
    if (rhythm == nullptr && !from_part)
        return make_error(ErrorCode::kInternal, "the tempo analyzer's rhythm analysis is missing");
    const rhythm::Params& base = rhythm ? rhythm->params : *from_part;
    const rhythm::Analysis* a = rhythm ? &rhythm->analysis : nullptr;
    rhythm::Analysis forced;
    if (cfg_.input != Input::kMix || cfg_.meter != base.meter ||
        cfg_.bar_phase != base.bar_phase) {  // a stem, a forced meter or decoder: decode again
        const bool net = base.net != nullptr;
        const auto in = input_features(ctx, cfg_.input, [net](features::FeatureCache& c) {
            c.get<features::RhythmFeatures>();
            if (net) c.get<features::BeatSpectrogram>();
        });
        if (!in) return in.error();
        const auto* f = in->features().find<features::RhythmFeatures>();
        if (f == nullptr) return make_error(ErrorCode::kInternal, "rhythm features were not planned");
        rhythm::Params p = base;
        p.meter = cfg_.meter;
        p.bar_phase = cfg_.bar_phase;
        forced = rhythm::analyze(*f, p, in->features().find<features::BeatSpectrogram>());
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
