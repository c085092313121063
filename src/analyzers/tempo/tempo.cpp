#include "analyzers/tempo/tempo.hpp"

#include "analyzers/rhythm/rhythm.hpp"

namespace harmony::analyzers {

const AnalyzerInfo& TempoAnalyzer::info() const {
    static const AnalyzerInfo info{
        "tempo",
        3,
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
        }};
    return info;
}

namespace {
rhythm::Params rhythm_params(const ParamSet& p) {
    rhythm::Params r;
    r.min_bpm = p.get_double("min_bpm");
    r.max_bpm = p.get_double("max_bpm");
    r.tightness = p.get_double("tightness");
    r.snap_grid = p.get_bool("snap_grid");
    return r;
}
}  // namespace

void TempoAnalyzer::plan(features::FeatureCache& cache, const ParamSet&) const {
    cache.get<features::RhythmFeatures>();
    cache.get<rhythm::RhythmResultCache>();
}

Result<void> TempoAnalyzer::analyze(AnalysisContext& ctx) const {
    auto* f = ctx.features.find<features::RhythmFeatures>();
    auto* cache = ctx.features.find<rhythm::RhythmResultCache>();
    if (f == nullptr || cache == nullptr) return make_error(ErrorCode::kInternal, "rhythm features were not planned");
    rhythm::Params p = rhythm_params(ctx.params);
    if (p.max_bpm <= p.min_bpm)
        return make_error(ErrorCode::kInvalidArgument, "tempo.max_bpm must be greater than tempo.min_bpm");
    ctx.song.tempo = cache->get(*f, p).tempo;
    return {};
}

}  // namespace harmony::analyzers
