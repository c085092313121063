#include "harmony/engine.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <optional>
#include <set>

#include "analyzers/analyzer.hpp"
#include "core/hash.hpp"
#include "features/feature_cache.hpp"
#include "io/decoder.hpp"
#include "pipeline/segments.hpp"

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

namespace {

/// One selected analyzer with its effective parameters and accumulated run time.
struct Planned {
    const analyzers::Analyzer* analyzer = nullptr;
    analyzers::ParamSet params;
    bool segmented = false;  // runs once per segment on long files (see pipeline/segments.hpp)
    double elapsed_s = 0.0;
};

/// Keeps the last `capacity` mono samples, to replay the overlap into the next segment.
class TailBuffer {
public:
    explicit TailBuffer(size_t capacity) : capacity_(capacity) {}
    void push(std::span<const float> x) {
        if (capacity_ == 0) return;
        if (buf_.empty()) buf_.assign(capacity_, 0.0f);  // allocated only when a file gets that long
        for (float v : x) {
            buf_[head_] = v;
            head_ = (head_ + 1) % buf_.size();
        }
        size_ = std::min(buf_.size(), size_ + x.size());
    }
    /// Calls f with the stored samples, oldest first (at most two spans).
    template <class F>
    void replay(F&& f) const {
        if (size_ == 0) return;
        const size_t start = (head_ + buf_.size() - size_) % buf_.size();
        if (start + size_ <= buf_.size()) {
            f(std::span<const float>(buf_.data() + start, size_));
        } else {
            f(std::span<const float>(buf_.data() + start, buf_.size() - start));
            f(std::span<const float>(buf_.data(), size_ - (buf_.size() - start)));
        }
    }
    size_t size() const { return size_; }

private:
    size_t capacity_;
    std::vector<float> buf_;
    size_t head_ = 0, size_ = 0;
};

}  // namespace

Result<SongMap> Engine::analyze_file(const std::string& path, const AnalysisRequest& request) {
    const auto t0 = Clock::now();
    auto order = resolve(request);
    if (!order) return order.error();

    // Effective parameters per analyzer.
    std::vector<Planned> plan;
    for (const auto& id : order.value()) {
        const auto* a = analyzers::find_analyzer(id);
        std::map<std::string, std::string> overrides;
        for (const auto& [key, value] : request.params)
            if (key.rfind(id + ".", 0) == 0) overrides[key.substr(id.size() + 1)] = value;
        auto p = analyzers::resolve_params(a->info(), overrides);
        if (!p) return p.error();
        plan.push_back({a, std::move(p.value()), false, 0.0});
    }

    // Segmentable analyzers (whose dependencies are segmentable too) get their own feature cache,
    // which is analysed and replaced every segment_s seconds on long files; the others (loudness:
    // whole-file statistics) stream through one cache for the whole file.
    const int rate = impl_->options.analysis_rate_hz;
    const double segment_s = impl_->options.segment_s;
    const double overlap_s = std::clamp(impl_->options.segment_overlap_s, 0.0, 0.5 * segment_s);
    std::set<std::string> segmented_ids;
    if (segment_s > 0.0)
        for (auto& p : plan) {
            bool ok = p.analyzer->segmentable();
            for (const auto& dep : p.analyzer->info().depends_on) ok = ok && segmented_ids.count(dep) > 0;
            p.segmented = ok;
            if (ok) segmented_ids.insert(p.analyzer->info().id);
        }
    auto make_segment_cache = [&] {
        auto c = std::make_unique<features::FeatureCache>(rate);
        for (const auto& p : plan)
            if (p.segmented) p.analyzer->plan(*c, p.params);
        return c;
    };
    auto seg_cache = make_segment_cache();
    if (seg_cache->needs_native()) {  // native-rate features cannot be replayed: no segmenting
        for (auto& p : plan) p.segmented = false;
        segmented_ids.clear();
        seg_cache = make_segment_cache();
    }
    features::FeatureCache whole(rate);
    for (const auto& p : plan)
        if (!p.segmented) p.analyzer->plan(whole, p.params);

    ThrottledProgress progress(impl_->options.progress);
    progress.report("decode", 0.0, true);

    // Runs the analyzers of one group on a cache into `song`. Only cancellation is an error: an
    // analyzer that fails is recorded in the warnings and the others go on.
    auto run_group = [&](bool segmented, features::FeatureCache& cache, SongMap& song,
                         const std::function<void(const std::string&, double)>& report) -> Result<void> {
        size_t k = 0, count = 0;
        for (const auto& p : plan) count += p.segmented == segmented ? 1 : 0;
        for (auto& p : plan) {
            if (p.segmented != segmented) continue;
            if (impl_->options.stop.stop_requested()) return make_error(ErrorCode::kCancelled, "cancelled");
            const auto& info = p.analyzer->info();
            const double base = static_cast<double>(k) / static_cast<double>(count), per = 1.0 / count;
            ++k;
            report(info.id, base);
            analyzers::AnalysisContext ctx{cache, p.params, song, impl_->options.stop,
                                           [&](double f) { report(info.id, base + per * std::clamp(f, 0.0, 1.0)); }};
            const auto ta = Clock::now();
            auto r = p.analyzer->analyze(ctx);
            const double dt = seconds_since(ta);
            p.elapsed_s += dt;
            if (!r) {
                if (r.error().code == ErrorCode::kCancelled) return r.error();
                // One analyzer failing never loses the others' results: keep going, record why.
                song.audio.warnings.push_back(info.id + " failed: " + r.error().message);
                continue;
            }
            Provenance prov{info.id, info.version, p.params.values(), dt};
            for (const auto& part : info.produces) set_provenance(song, part, prov);
        }
        return {};
    };

    SongMap song;
    io::SourceInfo source;
    std::vector<pipeline::SegmentResult> segments;
    std::optional<Error> segment_error;
    // Segment length in samples. When the header gives the duration, the file is cut into equal
    // segments of at most segment_s, so none is longer than a segment (see on_open below).
    auto seg_len = static_cast<std::int64_t>(std::llround(segment_s * rate));
    const auto overlap_len = static_cast<std::int64_t>(std::llround(overlap_s * rate));
    TailBuffer tail(segment_s > 0.0 && !segmented_ids.empty() ? static_cast<size_t>(overlap_len) : 0);
    std::int64_t fed = 0, seg_start = 0;  // mono samples streamed so far; first sample of the segment
    auto finish_segment = [&](bool last) {
        seg_cache->finish();
        pipeline::SegmentResult s;
        s.start_s = static_cast<double>(seg_start) / rate;
        s.end_s = static_cast<double>(fed) / rate;
        s.keep_from_s = segments.empty() ? 0.0 : segments.back().keep_to_s;
        s.keep_to_s = last ? s.end_s + 1.0 : s.end_s - 0.5 * overlap_s;
        auto r = run_group(true, *seg_cache, s.map, [](const std::string&, double) {});
        if (!r) {
            segment_error = r.error();
            return;
        }
        pipeline::shift_times(s.map, s.start_s);
        for (const auto& w : s.map.audio.warnings)
            if (std::find(song.audio.warnings.begin(), song.audio.warnings.end(), w) == song.audio.warnings.end())
                song.audio.warnings.push_back(w);
        s.map.audio.warnings.clear();
        segments.push_back(std::move(s));
    };
    auto maybe_cut = [&] {
        if (segmented_ids.empty() || segment_s <= 0.0 || segment_error) return;
        const std::int64_t len = fed - seg_start;
        if (len < seg_len) return;
        // Do not leave a short tail: when the header says less than half a segment remains, the
        // current segment runs to the end (up to 1.5 segments).
        const double remaining = source.duration_estimate_s - static_cast<double>(fed) / rate;
        if (source.duration_estimate_s > 0 && remaining < 0.5 * static_cast<double>(seg_len) / rate &&
            len < seg_len + seg_len / 2)
            return;
        finish_segment(false);
        seg_cache = make_segment_cache();
        seg_start = fed - static_cast<std::int64_t>(tail.size());
        tail.replay([&](std::span<const float> x) { seg_cache->on_mono(x); });
    };

    io::DecodeCallbacks cb;
    cb.on_open = [&](const io::SourceInfo& s) {
        source = s;
        const double d = s.duration_estimate_s;
        if (segment_s > 0.0 && d > 1.5 * segment_s && segment_s > overlap_s) {
            const double n = std::ceil((d - overlap_s) / (segment_s - overlap_s));
            seg_len = static_cast<std::int64_t>(std::llround((d + (n - 1.0) * overlap_s) / n * rate));
        }
    };
    if (whole.needs_native())
        cb.on_native = [&](std::span<const float> x, int ch, int r) { whole.on_native(x, ch, r); };
    cb.on_mono = [&](std::span<const float> x) {
        whole.on_mono(x);
        seg_cache->on_mono(x);
        // The overlap replayed into the next segment: only the last overlap_len samples before a
        // cut are needed, and a cut never comes before seg_len samples.
        if (fed + static_cast<std::int64_t>(x.size()) - seg_start > seg_len - overlap_len) tail.push(x);
        fed += static_cast<std::int64_t>(x.size());
        maybe_cut();
    };
    cb.on_position = [&](double s) {
        if (source.duration_estimate_s > 0)
            progress.report("decode", kDecodeShare * std::min(1.0, s / source.duration_estimate_s));
    };
    io::DecodeOptions dopt;
    dopt.target_rate_hz = rate;
    dopt.stop = impl_->options.stop;
    auto stats = io::decode_file(path, dopt, cb);
    if (!stats) return stats.error();
    if (segment_error) return *segment_error;
    whole.finish();

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
    a.warnings.insert(a.warnings.begin(), stats->warnings.begin(), stats->warnings.end());

    // Analyzers after decoding: the segmented group (the last segment, or the whole file when it
    // was never cut), then the whole-file group.
    const size_t n_seg = segmented_ids.size(), n_all = plan.size();
    const double per = n_all == 0 ? 0.0 : (1.0 - kDecodeShare) / static_cast<double>(n_all);
    auto report_in = [&](double base_share, double share) {
        return [&, base_share, share](const std::string& id, double f) {
            progress.report(id, kDecodeShare + base_share + share * std::clamp(f, 0.0, 1.0), f == 0.0);
        };
    };
    if (!segmented_ids.empty()) {
        if (segments.empty()) {
            seg_cache->finish();
            if (auto r = run_group(true, *seg_cache, song, report_in(0.0, per * n_seg)); !r) return r.error();
        } else {
            finish_segment(true);
            if (segment_error) return *segment_error;
            pipeline::merge_segments(segments, segment_s, overlap_s, song);
            for (const auto& p : plan) {
                if (!p.segmented) continue;
                Provenance prov{p.analyzer->info().id, p.analyzer->info().version, p.params.values(), p.elapsed_s};
                for (const auto& part : p.analyzer->info().produces) set_provenance(song, part, prov);
            }
        }
    }
    if (auto r = run_group(false, whole, song, report_in(per * n_seg, per * (n_all - n_seg))); !r) return r.error();
    song.elapsed_s = seconds_since(t0);
    progress.report("done", 1.0, true);
    return song;
}

}  // namespace harmony
