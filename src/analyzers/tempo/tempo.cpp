#include "analyzers/tempo/tempo.hpp"

#include <algorithm>
#include <cmath>

#include "analyzers/rhythm/beat_net.hpp"
#include "analyzers/rhythm/rhythm.hpp"
#include "features/beat_spectrogram.hpp"

namespace harmony::analyzers {

const AnalyzerInfo& TempoAnalyzer::describe() {
    static const AnalyzerInfo info{
        "tempo",
        6,
        "Tempo in BPM (least-squares fit over tracked beats), confidence, half/double/3:2 alternatives, tempo "
        "curve and stability, per-estimator breakdown; 'no tempo' for silence and beatless audio",
        {},
        {"tempo"},
        {
            {"min_bpm",
             "Lower end of the tempo range the answer is chosen in (DJ range, e.g. 70 or 85)",
             ParamType::kDouble,
             50.0,
             20.0,
             300.0,
             {}},
            {"max_bpm",
             "Upper end of the tempo range (DJ range, e.g. 140 or 170); must exceed min_bpm",
             ParamType::kDouble,
             220.0,
             30.0,
             400.0,
             {}},
            {"tightness",
             "Beat tracker: how strongly beats keep the tempo (higher = straighter grid)",
             ParamType::kDouble,
             300.0,
             1.0,
             10000.0,
             {}},
            {"snap_grid",
             "When the tempo is stable, place beats on the fitted constant grid",
             ParamType::kBool,
             true,
             0.0,
             0.0,
             {}},
            {"model",
             "Learned beat/downbeat front end: builtin = the shipped TCN (the default), empty = none (onset "
             "novelty alone), or a weight file (src/analyzers/rhythm/beat_net.hpp)",
             ParamType::kString,
             std::string("builtin"),
             0.0,
             0.0,
             {}},
            {"nn_mix",
             "With a model: share of the beat activation in the curve the tracker follows (0 = onsets only: the "
             "model then decides the bars; measured best on held-out Beatles and the dev renders)",
             ParamType::kDouble,
             0.0,
             0.0,
             1.0,
             {}},
            {"nn_tempo",
             "With a model: the tempogram and the octave cues read the blended curve too (not only the tracker)",
             ParamType::kBool,
             false,
             0.0,
             0.0,
             {}},
            {"nn_phase_check",
             "With a model: keep the half-beat phase check (bass onsets and chord changes on the beat)",
             ParamType::kBool,
             true,
             0.0,
             0.0,
             {}},
            {"nn_bar_weight",
             "With a model: weight of the downbeat activation among the bar accents",
             ParamType::kDouble,
             2.0,
             0.0,
             100.0,
             {}},
        }};
    return info;
}

Result<TempoAnalyzer::Config> TempoAnalyzer::configure(const ParamSet& p) {
    Config c;
    c.rhythm.min_bpm = p.get_double("min_bpm");
    c.rhythm.max_bpm = p.get_double("max_bpm");
    c.rhythm.tightness = p.get_double("tightness");
    c.rhythm.snap_grid = p.get_bool("snap_grid");
    c.rhythm.nn_mix = p.get_double("nn_mix");
    c.rhythm.nn_bar_weight = p.get_double("nn_bar_weight");
    c.rhythm.nn_tempo = p.get_bool("nn_tempo");
    c.rhythm.nn_phase_check = p.get_bool("nn_phase_check");
    c.rhythm.model = p.get_string("model");
    auto net = rhythm::load_beat_net(c.rhythm.model, &c.rhythm.model_hash);
    if (!net) return net.error();
    c.rhythm.net = net.value();
    if (c.rhythm.max_bpm <= c.rhythm.min_bpm)
        return make_error(ErrorCode::kInvalidArgument, "tempo.max_bpm (" + pipeline::fmt("%g", c.rhythm.max_bpm) +
                                                           ") must be greater than tempo.min_bpm (" +
                                                           pipeline::fmt("%g", c.rhythm.min_bpm) + ")");
    return c;
}

void TempoAnalyzer::plan(features::FeatureCache& cache) const {
    cache.get<features::RhythmFeatures>();
    if (cfg_.rhythm.net) cache.get<features::BeatSpectrogram>();
}

Result<void> TempoAnalyzer::analyze(Context& ctx) const {
    const auto* f = ctx.features.find<features::RhythmFeatures>();
    if (f == nullptr) return make_error(ErrorCode::kInternal, "rhythm features were not planned");
    auto a = std::make_shared<RhythmArtifact>();
    a->params = cfg_.rhythm;
    a->analysis = rhythm::analyze(*f, cfg_.rhythm, ctx.features.find<features::BeatSpectrogram>());
    if (ctx.cancelled()) return make_error(ErrorCode::kCancelled, "cancelled");
    ctx.out.tempo = a->analysis.tempo;
    ctx.artifacts.put<RhythmArtifact>("tempo", std::move(a));
    return {};
}

void TempoAnalyzer::merge(const std::vector<pipeline::SegmentResult>& segs, const MergeInfo& info, SongMap& out) const {
    using namespace pipeline;
    const std::string& method = info.method;
    const double total = info.total_kept_s;
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

}  // namespace harmony::analyzers
