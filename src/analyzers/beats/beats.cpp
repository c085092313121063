#include "analyzers/beats/beats.hpp"

#include "analyzers/rhythm/rhythm.hpp"

namespace harmony::analyzers {

const AnalyzerInfo& BeatsAnalyzer::info() const {
    static const AnalyzerInfo info{
        "beats",
        3,
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
        }};
    return info;
}

void BeatsAnalyzer::plan(features::FeatureCache& cache, const ParamSet&) const {
    cache.get<features::RhythmFeatures>();
    cache.get<rhythm::RhythmResultCache>();
}

Result<void> BeatsAnalyzer::analyze(AnalysisContext& ctx) const {
    auto* f = ctx.features.find<features::RhythmFeatures>();
    auto* cache = ctx.features.find<rhythm::RhythmResultCache>();
    if (f == nullptr || cache == nullptr) return make_error(ErrorCode::kInternal, "rhythm features were not planned");
    // Use the tempo analyzer's effective range and tracker settings (it ran first).
    rhythm::Params p;
    const auto& prov = ctx.song.tempo ? ctx.song.tempo->provenance.params : std::map<std::string, ParamValue>{};
    auto num = [&](const char* name, double fallback) {
        auto it = prov.find(name);
        if (it == prov.end()) return fallback;
        if (const auto* d = std::get_if<double>(&it->second)) return *d;
        if (const auto* i = std::get_if<std::int64_t>(&it->second)) return static_cast<double>(*i);
        return fallback;
    };
    p.min_bpm = num("min_bpm", 50.0);
    p.max_bpm = num("max_bpm", 220.0);
    p.tightness = num("tightness", 300.0);
    if (auto it = prov.find("snap_grid"); it != prov.end())
        if (const auto* b = std::get_if<bool>(&it->second)) p.snap_grid = *b;
    p.meter = ctx.params.get_string("meter");
    const rhythm::Analysis& a = cache->get(*f, p);
    if (!a.has_beats) {
        // No tempo: an empty, zero-confidence beat list (the tempo part says why).
        ctx.song.beats = Beats{};
        ctx.song.downbeats = Downbeats{};
        return {};
    }
    ctx.song.beats = a.beats;
    ctx.song.downbeats = a.downbeats;
    if (a.meter) ctx.song.meter = *a.meter;
    return {};
}

}  // namespace harmony::analyzers
