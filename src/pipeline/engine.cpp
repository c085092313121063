#include "harmony/engine.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <set>

#include "analyzers/analyzer.hpp"
#include "core/hash.hpp"
#include "features/feature_cache.hpp"
#include "io/decoder.hpp"

namespace harmony {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// Share of the progress bar given to decoding + feature extraction (the bulk of the work).
constexpr double kDecodeShare = 0.8;

class ThrottledProgress {
public:
    explicit ThrottledProgress(ProgressCallback cb) : cb_(std::move(cb)) {}
    void report(const std::string& stage, double fraction, bool force = false) {
        if (!cb_) return;
        const auto now = Clock::now();
        if (!force && stage == last_stage_ && now - last_ < std::chrono::milliseconds(60)) return;
        last_ = now;
        last_stage_ = stage;
        cb_(Progress{stage, std::clamp(fraction, 0.0, 1.0)});
    }

private:
    ProgressCallback cb_;
    Clock::time_point last_{};
    std::string last_stage_;
};

void set_provenance(SongMap& song, const std::string& part, const Provenance& p) {
    if (part == "tempo" && song.tempo)
        song.tempo->provenance = p;
    else if (part == "beats" && song.beats)
        song.beats->provenance = p;
    else if (part == "downbeats" && song.downbeats)
        song.downbeats->provenance = p;
    else if (part == "meter" && song.meter)
        song.meter->provenance = p;
    else if (part == "key" && song.key)
        song.key->provenance = p;
    else if (part == "loudness" && song.loudness)
        song.loudness->provenance = p;
    else if (part == "chords" && song.chords)
        song.chords->provenance = p;
    else if (part == "sections" && song.sections)
        song.sections->provenance = p;
    else if (part == "notes" && song.notes)
        song.notes->provenance = p;
    else if (part == "lyrics" && song.lyrics)
        song.lyrics->provenance = p;
    else if (part == "stems" && song.stems)
        song.stems->provenance = p;
}

}  // namespace

struct Engine::Impl {
    EngineOptions options;
};

Engine::Engine(EngineOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->options = std::move(options);
}
Engine::~Engine() = default;

const std::vector<AnalyzerInfo>& Engine::analyzers() {
    static const std::vector<AnalyzerInfo> infos = [] {
        std::vector<AnalyzerInfo> v;
        for (const auto* a : analyzers::registry()) v.push_back(a->info());
        return v;
    }();
    return infos;
}

Result<std::vector<std::string>> Engine::resolve(const AnalysisRequest& request) {
    std::set<std::string> wanted;
    if (request.only.empty()) {
        for (const auto* a : analyzers::registry()) wanted.insert(a->info().id);
    }
    for (const auto& id : request.only) {
        if (analyzers::find_analyzer(id) == nullptr) {
            std::string known;
            for (const auto* a : analyzers::registry()) known += (known.empty() ? "" : ", ") + a->info().id;
            return make_error(ErrorCode::kInvalidArgument, "unknown analyzer '" + id + "' (known: " + known + ")");
        }
        wanted.insert(id);
    }
    // Close over dependencies, then order: dependencies first, registry order otherwise.
    std::vector<std::string> order;
    std::set<std::string> visiting, done;
    std::function<Result<void>(const std::string&)> visit = [&](const std::string& id) -> Result<void> {
        if (done.count(id)) return {};
        if (visiting.count(id)) return make_error(ErrorCode::kInternal, "analyzer dependency cycle at " + id);
        const auto* a = analyzers::find_analyzer(id);
        if (a == nullptr) return make_error(ErrorCode::kInternal, "missing dependency " + id);
        visiting.insert(id);
        for (const auto& dep : a->info().depends_on)
            if (auto r = visit(dep); !r) return r;
        visiting.erase(id);
        done.insert(id);
        order.push_back(id);
        return {};
    };
    for (const auto* a : analyzers::registry())
        if (wanted.count(a->info().id))
            if (auto r = visit(a->info().id); !r) return r.error();
    // Parameter overrides must name a selected analyzer and a declared parameter.
    for (const auto& [key, value] : request.params) {
        const auto dot = key.find('.');
        if (dot == std::string::npos)
            return make_error(ErrorCode::kInvalidArgument,
                              "parameter '" + key + "' must be written analyzer.name=value");
        const std::string id = key.substr(0, dot);
        const auto* a = analyzers::find_analyzer(id);
        if (a == nullptr)
            return make_error(ErrorCode::kInvalidArgument,
                              "parameter '" + key + "' names unknown analyzer '" + id + "'");
        if (auto p = analyzers::resolve_params(a->info(), {{key.substr(dot + 1), value}}); !p) return p.error();
    }
    return order;
}

Result<SongMap> Engine::analyze_file(const std::string& path, const AnalysisRequest& request) {
    const auto t0 = Clock::now();
    auto order = resolve(request);
    if (!order) return order.error();

    // Effective parameters per analyzer.
    std::vector<const analyzers::Analyzer*> selected;
    std::vector<analyzers::ParamSet> params;
    for (const auto& id : order.value()) {
        const auto* a = analyzers::find_analyzer(id);
        std::map<std::string, std::string> overrides;
        for (const auto& [key, value] : request.params)
            if (key.rfind(id + ".", 0) == 0) overrides[key.substr(id.size() + 1)] = value;
        auto p = analyzers::resolve_params(a->info(), overrides);
        if (!p) return p.error();
        selected.push_back(a);
        params.push_back(std::move(p.value()));
    }

    const int rate = impl_->options.analysis_rate_hz;
    features::FeatureCache cache(rate);
    for (size_t i = 0; i < selected.size(); ++i) selected[i]->plan(cache, params[i]);

    ThrottledProgress progress(impl_->options.progress);
    progress.report("decode", 0.0, true);
    SongMap song;
    io::SourceInfo source;
    io::DecodeCallbacks cb;
    const bool native = cache.needs_native();
    cb.on_open = [&](const io::SourceInfo& s) { source = s; };
    if (native) cb.on_native = [&](std::span<const float> x, int ch, int r) { cache.on_native(x, ch, r); };
    cb.on_mono = [&](std::span<const float> x) { cache.on_mono(x); };
    cb.on_position = [&](double s) {
        if (source.duration_estimate_s > 0)
            progress.report("decode", kDecodeShare * std::min(1.0, s / source.duration_estimate_s));
    };
    io::DecodeOptions dopt;
    dopt.target_rate_hz = rate;
    dopt.stop = impl_->options.stop;
    auto stats = io::decode_file(path, dopt, cb);
    if (!stats) return stats.error();
    cache.finish();

    auto hash = core::hash_file(path);
    if (!hash) return hash.error();
    AudioInfo& a = song.audio;
    a.path = path;
    a.container = source.container;
    a.codec = source.codec;
    a.sample_rate_hz = source.sample_rate_hz;
    a.channels = source.channels;
    a.bit_rate = source.bit_rate;
    a.file_size_bytes = source.file_size_bytes;
    a.duration_s = static_cast<double>(stats->native_frames) / source.sample_rate_hz;
    a.content_hash = hash.value();
    a.analysis_rate_hz = rate;
    a.truncated = stats->truncated;
    a.warnings = stats->warnings;

    const double per = selected.empty() ? 0.0 : (1.0 - kDecodeShare) / static_cast<double>(selected.size());
    for (size_t i = 0; i < selected.size(); ++i) {
        if (impl_->options.stop.stop_requested()) return make_error(ErrorCode::kCancelled, "cancelled");
        const auto& info = selected[i]->info();
        const double base = kDecodeShare + per * static_cast<double>(i);
        progress.report(info.id, base, true);
        analyzers::AnalysisContext ctx{cache, params[i], song, impl_->options.stop, [&](double f) {
                                           progress.report(info.id, base + per * std::clamp(f, 0.0, 1.0));
                                       }};
        const auto ta = Clock::now();
        auto r = selected[i]->analyze(ctx);
        if (!r) {
            if (r.error().code == ErrorCode::kCancelled) return r.error();
            // One analyzer failing never loses the others' results: keep going, record why.
            song.audio.warnings.push_back(info.id + " failed: " + r.error().message);
            continue;
        }
        Provenance prov{info.id, info.version, params[i].values(), seconds_since(ta)};
        for (const auto& part : info.produces) set_provenance(song, part, prov);
    }
    song.elapsed_s = seconds_since(t0);
    progress.report("done", 1.0, true);
    return song;
}

}  // namespace harmony
