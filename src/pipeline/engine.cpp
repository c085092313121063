#include "harmony/engine.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <new>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "analyzers/analyzer.hpp"
#include "analyzers/defaults.hpp"
#include "core/hash.hpp"
#include "features/feature_cache.hpp"
#include "harmony/version.hpp"
#include "io/decoder.hpp"
#include "io/resampler.hpp"
#include "pipeline/graph.hpp"
#include "pipeline/merge.hpp"
#include "pipeline/parts.hpp"
#include "pipeline/segments.hpp"

namespace harmony {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// Share of the progress bar given to decoding + feature extraction (the bulk of the work).
constexpr double kDecodeShare = 0.8;

int effective_threads(int requested) {
    if (requested > 0) return requested;
    return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

/// Progress from any thread: throttled per stage, never decreasing.
class ThrottledProgress {
public:
    explicit ThrottledProgress(ProgressCallback cb) : cb_(std::move(cb)) {}
    void report(const std::string& stage, double fraction, bool force = false) {
        if (!cb_) return;
        std::lock_guard lock(mu_);
        const auto now = Clock::now();
        fraction = std::max(last_fraction_, std::clamp(fraction, 0.0, 1.0));
        if (!force && stage == last_stage_ && now - last_ < std::chrono::milliseconds(60)) return;
        last_ = now;
        last_stage_ = stage;
        last_fraction_ = fraction;
        cb_(Progress{stage, fraction});
    }

private:
    ProgressCallback cb_;
    std::mutex mu_;
    Clock::time_point last_{};
    std::string last_stage_;
    double last_fraction_ = 0.0;
};

/// One selected analyzer: its definition, effective parameters and instance.
struct Item {
    const analyzers::AnalyzerDef* def = nullptr;
    analyzers::ParamSet params;
    std::unique_ptr<const analyzers::Analyzer> analyzer;
    std::vector<analyzers::AudioRequest> audio;
    bool segmented = false;  // runs once per segment on long files
    double elapsed_s = 0.0;  // summed over segments
    const std::string& id() const { return def->info.id; }
};

/// A request resolved into instances in dependency order.
struct Plan {
    std::vector<Item> items;
    std::vector<pipeline::GraphNode> nodes;  // parallel to items
};

Result<Plan> make_plan(const AnalysisRequest& request) {
    const auto& reg = analyzers::registry();
    std::set<std::string> wanted;
    if (request.only.empty())
        for (const auto& d : reg)
            if (analyzers::in_default_set(d.info.id)) wanted.insert(d.info.id);
    for (const auto& id : request.only) {
        if (analyzers::find_analyzer(id) == nullptr) {
            std::string known;
            for (const auto& d : reg) known += (known.empty() ? "" : ", ") + d.info.id;
            return make_error(ErrorCode::kInvalidArgument, "unknown analyzer '" + id + "' (known: " + known + ")");
        }
        wanted.insert(id);
    }
    // Parameter overrides must name a known analyzer and a declared parameter.
    std::map<std::string, std::map<std::string, std::string>> overrides;
    for (const auto& [key, value] : request.params) {
        const auto dot = key.find('.');
        if (dot == std::string::npos)
            return make_error(ErrorCode::kInvalidArgument,
                              "parameter '" + key + "' must be written analyzer.name=value");
        const std::string id = key.substr(0, dot);
        const auto* d = analyzers::find_analyzer(id);
        if (d == nullptr)
            return make_error(ErrorCode::kInvalidArgument,
                              "parameter '" + key + "' names unknown analyzer '" + id + "'");
        if (auto p = analyzers::resolve_params(d->info, {{key.substr(dot + 1), value}}); !p) return p.error();
        overrides[id][key.substr(dot + 1)] = value;
    }
    // Close over the analyzers whose results the selected ones read: those they declare, and those
    // an instance reads because of its parameters (Analyzer::extra_inputs, e.g. a stem as input).
    std::map<std::string, Item> made;
    std::map<std::string, std::vector<std::string>> reads;
    for (bool grew = true; grew;) {
        grew = false;
        for (const auto& d : reg) {
            if (!wanted.count(d.info.id) || made.count(d.info.id)) continue;
            Item it;
            it.def = &d;
            auto p = analyzers::resolve_params(d.info, overrides[d.info.id]);
            if (!p) return p.error();
            it.params = std::move(p.value());
            auto a = d.create(it.params);
            if (!a) return a.error();
            it.analyzer = std::move(a.value());
            it.audio = it.analyzer->audio_inputs();
            auto& in = reads[d.info.id];
            in = d.info.depends_on;
            for (auto& x : it.analyzer->extra_inputs())
                if (std::find(in.begin(), in.end(), x) == in.end()) in.push_back(std::move(x));
            for (const auto& dep : in) {
                if (analyzers::find_analyzer(dep) == nullptr)
                    return make_error(ErrorCode::kInternal,
                                      "'" + d.info.id + "' reads '" + dep + "', which is not in the registry");
                if (wanted.insert(dep).second) grew = true;
            }
            made.emplace(d.info.id, std::move(it));
        }
    }
    // Every analyzer's config is validated whole (cross-field rules) and even when it was not
    // selected, so a bad override is always a usage error before any decoding.
    for (const auto& [id, ov] : overrides) {
        if (wanted.count(id)) continue;
        const auto* d = analyzers::find_analyzer(id);
        auto p = analyzers::resolve_params(d->info, ov);
        if (!p) return p.error();
        if (auto a = d->create(p.value()); !a) return a.error();
    }
    std::vector<pipeline::GraphNode> nodes;
    for (const auto& d : reg)
        if (wanted.count(d.info.id)) nodes.push_back({d.info.id, reads[d.info.id]});
    auto order = pipeline::topological_order(nodes);
    if (!order) return order.error();
    Plan plan;
    for (auto i : order.value()) {
        plan.items.push_back(std::move(made.at(nodes[i].id)));
        plan.nodes.push_back(nodes[i]);
    }
    return plan;
}

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

/// An audio block in flight: interleaved samples and their layout.
struct Block {
    std::vector<float> samples;
    std::vector<std::uint32_t> parts;  // the decoder's block sizes, kept: segment cuts fall on them
    int channels = 1;
    int rate_hz = 0;
    /// Calls f with each of the decoder's blocks in turn.
    template <class F>
    void each(F&& f) const {
        size_t at = 0;
        for (auto n : parts) {
            f(std::span<const float>(samples.data() + at, n));
            at += n;
        }
    }
};

/// A bounded queue of audio blocks between the decoding thread and one consumer thread.
class BlockQueue {
public:
    explicit BlockQueue(size_t max_floats) : max_floats_(max_floats) {}
    /// Adds a decoder block. Blocks of one layout are gathered into chunks of about 32 k samples
    /// before they are handed over (one wake-up per chunk, not per MP3 frame); blocks while the
    /// queue is full; false once aborted.
    bool push(std::span<const float> x, int channels = 1, int rate_hz = 0) {
        if (!pending_.parts.empty() && (channels != pending_.channels || rate_hz != pending_.rate_hz))
            if (!flush()) return false;
        if (pending_.parts.empty()) {
            pending_.channels = channels;
            pending_.rate_hz = rate_hz;
            pending_.samples.reserve(kChunk + x.size());
        }
        pending_.samples.insert(pending_.samples.end(), x.begin(), x.end());
        pending_.parts.push_back(static_cast<std::uint32_t>(x.size()));
        return pending_.samples.size() < kChunk || flush();
    }
    /// Hands the gathered chunk over (producer side).
    bool flush() {
        if (pending_.parts.empty()) return true;
        std::unique_lock lock(mu_);
        not_full_.wait(lock, [&] { return aborted_ || queued_ < max_floats_; });
        if (aborted_) return false;
        queued_ += pending_.samples.size();
        q_.push_back(std::move(pending_));
        pending_ = Block{};
        not_empty_.notify_one();
        return true;
    }
    void close() {
        flush();
        std::lock_guard lock(mu_);
        closed_ = true;
        not_empty_.notify_all();
    }
    void abort() {
        std::lock_guard lock(mu_);
        aborted_ = true;
        not_full_.notify_all();
        not_empty_.notify_all();
    }
    /// Next block, or nullopt at the end.
    std::optional<Block> pop() {
        std::unique_lock lock(mu_);
        not_empty_.wait(lock, [&] { return aborted_ || closed_ || !q_.empty(); });
        if (aborted_ || q_.empty()) return std::nullopt;
        auto v = std::move(q_.front());
        q_.pop_front();
        queued_ -= v.samples.size();
        not_full_.notify_one();
        return v;
    }

private:
    static constexpr size_t kChunk = size_t{1} << 15;
    Block pending_;  // producer only
    size_t max_floats_;
    std::mutex mu_;
    std::condition_variable not_full_, not_empty_;
    std::deque<Block> q_;
    size_t queued_ = 0;
    bool closed_ = false, aborted_ = false;
};

/// Whole-signal buffer for analyzers that asked for one (a rate and channel layout).
struct AudioCollector {
    analyzers::AudioRequest request;  // as asked (rate 0 = source rate)
    AudioBuffer buffer;
    std::unique_ptr<io::Resampler> resampler;
    bool over_budget = false;
};

/// Where an analyzer's audio comes from: a file (decoded by FFmpeg) or samples in memory.
struct Source {
    std::function<Result<io::DecodeStats>(const io::DecodeOptions&, const io::DecodeCallbacks&)> run;
    std::function<Result<std::string>()> content_hash;
    std::string path;
};

/// One analysis of one source: streaming, segments, the analyzer graph.
class Run {
public:
    Run(Plan& plan, const EngineOptions& options)
        : plan_(plan),
          opt_(options),
          rate_(options.analysis_rate_hz),
          threads_(effective_threads(options.threads)),
          progress_(options.progress),
          whole_(options.analysis_rate_hz),
          tail_(0) {}

    Result<SongMap> execute(const Source& source);

private:
    using Sink = std::function<void(std::span<const float>)>;

    void setup_streams();
    Result<void> run_items(const std::vector<size_t>& which, features::FeatureCache* seg_cache, SongMap& song,
                           std::vector<std::string>& warnings, bool report);
    void on_open(const io::SourceInfo& s);
    void on_native(std::span<const float> x, int channels, int rate);
    void on_mono(std::span<const float> x);
    void maybe_cut();
    void finish_segment(bool last);
    std::unique_ptr<features::FeatureCache> make_segment_cache() const;
    const AudioBuffer* audio_for(const analyzers::AudioRequest& r) const;

    Plan& plan_;
    const EngineOptions& opt_;
    const int rate_;
    const int threads_;
    ThrottledProgress progress_;
    std::stop_source internal_stop_;    // the caller's stop, or a consumer that failed
    std::optional<Error> limit_error_;  // set on the decoding thread, read after it ended
    void exceed_duration(double seconds) {
        if (limit_error_) return;
        char b[160];
        std::snprintf(b, sizeof b, "the audio is longer than the limit of %.0f s (%s %.0f s)", opt_.max_duration_s,
                      seconds == source_.duration_estimate_s ? "it lasts" : "decoded past", seconds);
        limit_error_ = Error{ErrorCode::kLimitExceeded, b};
        internal_stop_.request_stop();
    }

    features::FeatureCache whole_;
    std::unique_ptr<features::FeatureCache> seg_cache_;
    bool any_segmented_ = false;
    bool wants_native_ = false;
    std::vector<AudioCollector> collectors_;
    std::mutex collectors_mu_;
    double segment_s_ = 0.0, overlap_s_ = 0.0;
    TailBuffer tail_;
    std::int64_t seg_len_ = 0, overlap_len_ = 0, fed_ = 0, seg_start_ = 0;
    io::SourceInfo source_;
    std::vector<pipeline::SegmentResult> segments_;
    std::vector<std::string> segment_warnings_;
    std::optional<Error> segment_error_;
};

std::unique_ptr<features::FeatureCache> Run::make_segment_cache() const {
    auto c = std::make_unique<features::FeatureCache>(rate_);
    for (const auto& it : plan_.items)
        if (it.segmented) it.analyzer->plan(*c);
    return c;
}

void Run::setup_streams() {
    segment_s_ = opt_.segment_s;
    overlap_s_ = std::clamp(opt_.segment_overlap_s, 0.0, 0.5 * std::max(0.0, segment_s_));
    // Segmentable analyzers (whose inputs are segmentable too) stream through their own feature
    // cache, analysed and replaced every segment_s seconds on long files; the others stream
    // through one cache for the whole file.
    std::set<std::string> segmented;
    if (segment_s_ > 0.0)
        for (size_t i = 0; i < plan_.items.size(); ++i) {
            auto& it = plan_.items[i];
            bool ok = it.analyzer->segmentable() && it.audio.empty();
            for (const auto& dep : plan_.nodes[i].inputs) ok = ok && segmented.count(dep) > 0;
            it.segmented = ok;
            if (ok) segmented.insert(it.id());
        }
    seg_cache_ = make_segment_cache();
    if (seg_cache_->needs_native()) {  // native-rate features cannot be replayed: not segmentable
        for (auto& it : plan_.items) it.segmented = false;
        segmented.clear();
        seg_cache_ = make_segment_cache();
    }
    any_segmented_ = !segmented.empty();
    for (const auto& it : plan_.items)
        if (!it.segmented) it.analyzer->plan(whole_);
    for (const auto& it : plan_.items)
        for (const auto& r : it.audio) {
            bool have = false;
            for (const auto& c : collectors_) have = have || c.request == r;
            if (!have) collectors_.push_back(AudioCollector{r, {}, nullptr, false});
        }
    wants_native_ = whole_.needs_native() || !collectors_.empty();
    whole_.start();
    seg_cache_->start();
    seg_len_ = static_cast<std::int64_t>(std::llround(segment_s_ * rate_));
    overlap_len_ = static_cast<std::int64_t>(std::llround(overlap_s_ * rate_));
    tail_ = TailBuffer(segment_s_ > 0.0 && any_segmented_ ? static_cast<size_t>(overlap_len_) : 0);
}

const AudioBuffer* Run::audio_for(const analyzers::AudioRequest& r) const {
    for (const auto& c : collectors_)
        if (c.request == r && !c.over_budget) return &c.buffer;
    return nullptr;
}

void Run::on_open(const io::SourceInfo& s) {
    source_ = s;
    const double d = s.duration_estimate_s;
    if (opt_.max_duration_s > 0.0 && d > opt_.max_duration_s) exceed_duration(d);
    if (segment_s_ > 0.0 && d > 1.5 * segment_s_ && segment_s_ > overlap_s_) {
        const double n = std::ceil((d - overlap_s_) / (segment_s_ - overlap_s_));
        seg_len_ = static_cast<std::int64_t>(std::llround((d + (n - 1.0) * overlap_s_) / n * rate_));
    }
    for (auto& c : collectors_) {
        const int out_rate = c.request.rate_hz > 0 ? c.request.rate_hz : s.sample_rate_hz;
        c.buffer.sample_rate_hz = out_rate;
        c.buffer.channels = std::max(1, c.request.channels);
        AudioBuffer* buf = &c.buffer;
        bool* over = &c.over_budget;
        const auto budget = static_cast<size_t>(opt_.memory_budget_mb * 1024.0 * 1024.0 / sizeof(float));
        c.resampler = std::make_unique<io::Resampler>(s.sample_rate_hz, s.channels, out_rate, c.buffer.channels,
                                                      [buf, over, budget](std::span<const float> x) {
                                                          if (*over) return;
                                                          if (buf->samples.size() + x.size() > budget) {
                                                              *over = true;
                                                              std::vector<float>().swap(buf->samples);
                                                              return;
                                                          }
                                                          buf->samples.insert(buf->samples.end(), x.begin(), x.end());
                                                      });
        // Known in advance from the header: do not start collecting what cannot fit.
        if (d > 0 && d * out_rate * c.buffer.channels > static_cast<double>(budget)) c.over_budget = true;
    }
}

void Run::on_native(std::span<const float> x, int channels, int rate) {
    whole_.on_native(x, channels, rate);
    for (auto& c : collectors_)
        if (c.resampler && !c.over_budget) c.resampler->push(x);
}

void Run::on_mono(std::span<const float> x) {
    whole_.on_mono(x);
    seg_cache_->on_mono(x);
    // The overlap replayed into the next segment: only the last overlap_len samples before a cut
    // are needed, and a cut never comes before seg_len samples.
    if (fed_ + static_cast<std::int64_t>(x.size()) - seg_start_ > seg_len_ - overlap_len_) tail_.push(x);
    fed_ += static_cast<std::int64_t>(x.size());
    maybe_cut();
}

void Run::maybe_cut() {
    if (!any_segmented_ || segment_s_ <= 0.0 || segment_error_) return;
    const std::int64_t len = fed_ - seg_start_;
    if (len < seg_len_) return;
    // Do not leave a short tail: when the header says less than half a segment remains, the
    // current segment runs to the end (up to 1.5 segments).
    const double remaining = source_.duration_estimate_s - static_cast<double>(fed_) / rate_;
    if (source_.duration_estimate_s > 0 && remaining < 0.5 * static_cast<double>(seg_len_) / rate_ &&
        len < seg_len_ + seg_len_ / 2)
        return;
    finish_segment(false);
    seg_cache_ = make_segment_cache();
#if defined(__GLIBC__)
    // The finished segment's features are freed; give their pages back to the system. Without
    // this, each thread's malloc arena keeps the high-water mark of whatever analyzer last ran on
    // it, so with several threads the peak creeps up over the segments of a long file (towards
    // one segment's working set per thread) instead of staying at one segment's.
    malloc_trim(0);
#endif
    seg_cache_->start();
    seg_start_ = fed_ - static_cast<std::int64_t>(tail_.size());
    tail_.replay([&](std::span<const float> x) { seg_cache_->on_mono(x); });
}

void Run::finish_segment(bool last) {
    seg_cache_->finish();
    pipeline::SegmentResult s;
    s.start_s = static_cast<double>(seg_start_) / rate_;
    s.end_s = static_cast<double>(fed_) / rate_;
    s.keep_from_s = segments_.empty() ? 0.0 : segments_.back().keep_to_s;
    s.keep_to_s = last ? s.end_s + 1.0 : s.end_s - 0.5 * overlap_s_;
    std::vector<size_t> which;
    for (size_t i = 0; i < plan_.items.size(); ++i)
        if (plan_.items[i].segmented) which.push_back(i);
    std::vector<std::string> warnings;
    if (auto r = run_items(which, seg_cache_.get(), s.map, warnings, false); !r) {
        segment_error_ = r.error();
        internal_stop_.request_stop();
        return;
    }
    pipeline::shift_times(s.map, s.start_s);
    for (const auto& w : warnings)
        if (std::find(segment_warnings_.begin(), segment_warnings_.end(), w) == segment_warnings_.end())
            segment_warnings_.push_back(w);
    segments_.push_back(std::move(s));
}

// Runs the given items (indices into the plan) as a graph into `song`: each on the segment cache
// when it is segmented, else on the whole-file cache. Only cancellation is an error: an analyzer
// that fails (or throws) is recorded in the warnings, those that read it are skipped, the others
// go on.
Result<void> Run::run_items(const std::vector<size_t>& which, features::FeatureCache* seg_cache, SongMap& song,
                            std::vector<std::string>& warnings, bool report) {
    std::vector<pipeline::GraphNode> nodes;
    std::set<std::string> present;
    for (auto i : which) present.insert(plan_.items[i].id());
    for (auto i : which) {
        pipeline::GraphNode n{plan_.items[i].id(), {}};
        for (const auto& in : plan_.nodes[i].inputs)
            if (present.count(in)) n.inputs.push_back(in);  // others are already in `song`
        nodes.push_back(std::move(n));
    }
    analyzers::Artifacts artifacts;
    std::mutex song_mu;
    // Consumers left per producer: an artifact is freed when its last reader is done.
    std::map<std::string, int> readers;
    std::set<std::string> read;  // fixed while the graph runs (readers counts down)
    for (const auto& n : nodes)
        for (const auto& in : n.inputs) {
            ++readers[in];
            read.insert(in);
        }
    std::vector<double> fraction(which.size(), 0.0);
    const double per = (1.0 - kDecodeShare) / static_cast<double>(std::max<size_t>(1, plan_.items.size()));
    const double done_before = [&] {
        double d = 0.0;
        for (const auto& it : plan_.items)
            if (it.segmented && !seg_cache) d += 1.0;
        return d;
    }();
    auto report_progress = [&](size_t k, double f, bool force) {
        if (!report) return;
        double total = done_before;
        {
            std::lock_guard lock(song_mu);
            fraction[k] = std::max(fraction[k], std::clamp(f, 0.0, 1.0));
            for (double x : fraction) total += x;
        }
        progress_.report(nodes[k].id, kDecodeShare + per * total, force);
    };

    auto run_one = [&](size_t k) -> Result<void> {
        Item& it = plan_.items[which[k]];
        if (internal_stop_.stop_requested() || opt_.stop.stop_requested())
            return make_error(ErrorCode::kCancelled, "cancelled");
        for (const auto& r : it.audio) {
            if (audio_for(r) == nullptr)
                return make_error(ErrorCode::kInvalidArgument,
                                  "the whole signal at " + std::to_string(r.rate_hz) + " Hz x " +
                                      std::to_string(r.channels) +
                                      " channel(s) exceeds the engine's memory budget of " +
                                      std::to_string(static_cast<long>(opt_.memory_budget_mb)) + " MB");
        }
        report_progress(k, 0.0, true);
        SongMap out;
        features::FeatureCache& cache = it.segmented && seg_cache ? *seg_cache : whole_;
        analyzers::Context ctx{cache,
                               song,
                               out,
                               artifacts,
                               internal_stop_.get_token(),
                               [&, k](double f) { report_progress(k, f, false); },
                               [this](const analyzers::AudioRequest& r) { return audio_for(r); },
                               read.count(it.id()) > 0};
        const auto ta = Clock::now();
        Result<void> r;
        try {
            r = it.analyzer->analyze(ctx);
        } catch (const std::bad_alloc&) {
            r = make_error(ErrorCode::kInternal, "out of memory");
        } catch (const std::exception& e) {
            r = make_error(ErrorCode::kInternal, std::string("unexpected exception: ") + e.what());
        } catch (...) {
            r = make_error(ErrorCode::kInternal, "unexpected exception");
        }
        const double dt = seconds_since(ta);
        it.elapsed_s += dt;
        if (r && (internal_stop_.stop_requested() || opt_.stop.stop_requested()))
            r = make_error(ErrorCode::kCancelled, "cancelled");
        if (r) {
            const Provenance prov{it.id(), it.def->info.version, it.params.values(), dt};
            std::lock_guard lock(song_mu);
            for (auto p : it.def->parts) {
                const auto& t = pipeline::traits(p);
                t.move_to(out, song);
                if (auto* pv = t.provenance(song)) *pv = prov;
            }
        }
        report_progress(k, 1.0, true);
        return r;
    };
    auto outcomes = pipeline::run_graph(nodes, threads_, internal_stop_.get_token(), [&](size_t k) {
        auto r = run_one(k);
        // Free what nobody reads any more.
        std::lock_guard lock(song_mu);
        for (const auto& in : nodes[k].inputs)
            if (--readers[in] == 0) artifacts.release(in);
        if (readers[nodes[k].id] == 0) artifacts.release(nodes[k].id);
        return r;
    });
    for (size_t k = 0; k < outcomes.size(); ++k) {
        const auto& o = outcomes[k];
        if (o.state == pipeline::NodeState::kCancelled) return make_error(ErrorCode::kCancelled, "cancelled");
        if (o.state == pipeline::NodeState::kFailed) warnings.push_back(nodes[k].id + " failed: " + o.error.message);
        if (o.state == pipeline::NodeState::kSkipped) warnings.push_back(nodes[k].id + " " + o.error.message);
    }
    return {};
}

Result<SongMap> Run::execute(const Source& source) {
    const auto t0 = Clock::now();
    std::optional<std::stop_callback<std::function<void()>>> forward;
    forward.emplace(opt_.stop, std::function<void()>([this] { internal_stop_.request_stop(); }));
    setup_streams();
    progress_.report("decode", 0.0, true);

    // Streaming: with more than one thread, the decoder hands its blocks to a consumer thread for
    // the mono features and one for the source-rate consumers (loudness, whole-signal buffers),
    // through bounded queues, so decoding and feature extraction overlap.
    const bool pipelined = threads_ > 1;
    constexpr size_t kQueueFloats = size_t{1} << 18;  // 1 MB of samples in flight per queue at most
    BlockQueue mono_q(kQueueFloats), native_q(kQueueFloats);
    std::vector<std::jthread> consumers;
    if (pipelined) {
        consumers.emplace_back([&] {
            while (auto b = mono_q.pop()) b->each([&](std::span<const float> x) { on_mono(x); });
        });
        if (wants_native_)
            consumers.emplace_back([&] {
                while (auto b = native_q.pop())
                    b->each([&](std::span<const float> x) { on_native(x, b->channels, b->rate_hz); });
            });
    }
    auto stop_consumers = [&](bool abort) {
        if (abort) {
            mono_q.abort();
            native_q.abort();
        } else {
            mono_q.close();
            native_q.close();
        }
        consumers.clear();  // joins
    };

    io::DecodeCallbacks cb;
    cb.on_open = [&](const io::SourceInfo& s) { on_open(s); };
    if (wants_native_)
        cb.on_native = [&](std::span<const float> x, int ch, int r) {
            if (pipelined)
                native_q.push(x, ch, r);
            else
                on_native(x, ch, r);
        };
    cb.on_mono = [&](std::span<const float> x) {
        if (pipelined)
            mono_q.push(x);
        else
            on_mono(x);
    };
    cb.on_position = [&](double s) {
        if (opt_.max_duration_s > 0.0 && s > opt_.max_duration_s) exceed_duration(s);
        if (source_.duration_estimate_s > 0)
            progress_.report("decode", kDecodeShare * std::min(1.0, s / source_.duration_estimate_s));
    };
    io::DecodeOptions dopt;
    dopt.target_rate_hz = rate_;
    dopt.stop = internal_stop_.get_token();
    auto stats = source.run(dopt, cb);
    stop_consumers(!stats.ok());
    if (limit_error_) return *limit_error_;
    if (segment_error_) return *segment_error_;
    if (!stats) {
        if (stats.error().code != ErrorCode::kCancelled || opt_.stop.stop_requested()) return stats.error();
        return make_error(ErrorCode::kCancelled, "cancelled");
    }
    if (opt_.stop.stop_requested()) return make_error(ErrorCode::kCancelled, "cancelled");
    for (auto& c : collectors_)
        if (c.resampler && !c.over_budget) c.resampler->flush();
    whole_.finish();
    if (segments_.empty()) seg_cache_->finish();  // never cut: the segment cache holds the whole file

    auto hash = source.content_hash();
    if (!hash) return hash.error();
    SongMap song;
    AudioInfo& a = song.audio;
    a.path = source.path;
    a.container = source_.container;
    a.codec = source_.codec;
    a.sample_rate_hz = source_.sample_rate_hz;
    a.channels = source_.channels;
    a.bit_rate = source_.bit_rate;
    a.file_size_bytes = source_.file_size_bytes;
    a.duration_s = source_.sample_rate_hz > 0 ? static_cast<double>(stats->native_frames) / source_.sample_rate_hz : 0;
    a.content_hash = hash.value();
    a.analysis_rate_hz = rate_;
    a.truncated = stats->truncated;
    a.warnings = stats->warnings;
    a.gapless_trim_frames = stats->start_trim_frames;
    a.tags = {source_.title, source_.artist, source_.album, source_.genre, source_.comment, source_.bpm, source_.key};

    // Segmented analyzers of a file that was cut: the last segment, then each analyzer merges its
    // segments (in dependency order, so beats sees the merged tempo).
    std::vector<size_t> rest;
    for (size_t i = 0; i < plan_.items.size(); ++i)
        if (!(plan_.items[i].segmented && !segments_.empty())) rest.push_back(i);
    if (!segments_.empty()) {
        finish_segment(true);
        if (segment_error_) return *segment_error_;
        std::vector<const analyzers::Analyzer*> order;
        for (const auto& it : plan_.items)
            if (it.segmented) order.push_back(it.analyzer.get());
        pipeline::merge_segments(order, segments_, segment_s_, overlap_s_, song);
        for (const auto& it : plan_.items) {
            if (!it.segmented) continue;
            const Provenance prov{it.id(), it.def->info.version, it.params.values(), it.elapsed_s};
            for (auto p : it.def->parts)
                if (auto* pv = pipeline::traits(p).provenance(song)) *pv = prov;
        }
    }
    std::vector<std::string> warnings = segment_warnings_;
    if (auto r = run_items(rest, segments_.empty() ? seg_cache_.get() : nullptr, song, warnings, true); !r)
        return r.error();
    for (const auto& w : warnings) a.warnings.push_back(w);
    song.elapsed_s = seconds_since(t0);
    progress_.report("done", 1.0, true);
    return song;
}

/// Feeds samples in memory through the same callbacks as the decoder.
Result<io::DecodeStats> feed_pcm(std::span<const float> x, int channels, int rate, const io::DecodeOptions& opt,
                                 const io::DecodeCallbacks& cb) {
    io::SourceInfo info;
    info.container = "pcm";
    info.codec = "pcm_f32";
    info.sample_rate_hz = rate;
    info.channels = channels;
    info.bit_rate = static_cast<std::int64_t>(rate) * channels * 32;
    const auto frames = static_cast<std::int64_t>(x.size() / static_cast<size_t>(channels));
    info.duration_estimate_s = static_cast<double>(frames) / rate;
    info.file_size_bytes = static_cast<std::int64_t>(x.size() * sizeof(float));
    if (cb.on_open) cb.on_open(info);
    io::DecodeStats stats;
    io::Resampler mono(rate, channels, opt.target_rate_hz, 1, [&](std::span<const float> m) {
        stats.mono_samples += static_cast<std::int64_t>(m.size());
        if (cb.on_mono) cb.on_mono(m);
    });
    if (!mono.ok()) return make_error(ErrorCode::kInternal, "cannot set up the resampler");
    constexpr std::int64_t kBlock = 4096;
    for (std::int64_t f = 0; f < frames; f += kBlock) {
        if (opt.stop.stop_requested()) return make_error(ErrorCode::kCancelled, "cancelled");
        const auto n = static_cast<size_t>(std::min(kBlock, frames - f));
        const auto block = x.subspan(static_cast<size_t>(f) * static_cast<size_t>(channels), n * channels);
        if (cb.on_native) cb.on_native(block, channels, rate);
        mono.push(block);
        stats.native_frames += static_cast<std::int64_t>(n);
        if (cb.on_position) cb.on_position(static_cast<double>(f + static_cast<std::int64_t>(n)) / rate);
    }
    mono.flush();
    return stats;
}

template <class F>
Result<SongMap> guarded(F&& f) {
    try {
        return f();
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::kInternal, "out of memory");
    } catch (const std::exception& e) {
        return make_error(ErrorCode::kInternal, std::string("unexpected exception: ") + e.what());
    } catch (...) {
        return make_error(ErrorCode::kInternal, "unexpected exception");
    }
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
        for (const auto& d : analyzers::registry()) v.push_back(d.info);
        return v;
    }();
    return infos;
}

Result<std::vector<std::string>> Engine::resolve(const AnalysisRequest& request) {
    try {
        auto plan = make_plan(request);
        if (!plan) return plan.error();
        std::vector<std::string> ids;
        for (const auto& it : plan->items) ids.push_back(it.id());
        return ids;
    } catch (const std::exception& e) {
        return make_error(ErrorCode::kInternal, std::string("unexpected exception: ") + e.what());
    }
}

Result<std::string> Engine::cache_key(const AnalysisRequest& request) const {
    auto plan = make_plan(request);
    if (!plan) return plan.error();
    const auto& o = impl_->options;
    char seg[96];
    std::snprintf(seg, sizeof seg, "segment=%.6g/%.6g", o.segment_s, o.segment_s > 0 ? o.segment_overlap_s : 0.0);
    std::string canon =
        std::string("schema=") + kSongMapSchemaVersion + ";rate=" + std::to_string(o.analysis_rate_hz) + ";" + seg;
    for (const auto& it : plan->items) {
        canon += ";" + it.id() + "@" + std::to_string(it.def->info.version) + "{";
        for (const auto& [name, value] : it.params.values())
            canon += name + "=" +
                     std::visit(
                         [](const auto& v) {
                             std::ostringstream s;
                             s.precision(17);
                             s << v;
                             return s.str();
                         },
                         value) +
                     ",";
        canon += "}";
        if (auto m = it.analyzer->model_hash(); !m.empty()) canon += "model=" + m;
    }
    return core::hash_string(canon);
}

Result<SongMap> Engine::analyze_file(const std::string& path, const AnalysisRequest& request) {
    return guarded([&]() -> Result<SongMap> {
        auto plan = make_plan(request);
        if (!plan) return plan.error();
        Source src;
        src.path = path;
        src.run = [&](const io::DecodeOptions& o, const io::DecodeCallbacks& cb) {
            return io::decode_file(path, o, cb);
        };
        src.content_hash = [&] { return core::hash_audio_file(path); };
        Run run(plan.value(), impl_->options);
        return run.execute(src);
    });
}

Result<SongMap> Engine::analyze_pcm(std::span<const float> x, int channels, int sample_rate_hz,
                                    const AnalysisRequest& request) {
    return guarded([&]() -> Result<SongMap> {
        if (channels < 1 || channels > 64)
            return make_error(ErrorCode::kInvalidArgument,
                              "PCM input: channels must be 1..64, got " + std::to_string(channels));
        if (sample_rate_hz < 1000 || sample_rate_hz > 1536000)
            return make_error(ErrorCode::kInvalidArgument,
                              "PCM input: sample rate must be 1000..1536000 Hz, got " + std::to_string(sample_rate_hz));
        if (x.size() % static_cast<size_t>(channels) != 0)
            return make_error(ErrorCode::kInvalidArgument, "PCM input: " + std::to_string(x.size()) +
                                                               " samples are not a whole number of " +
                                                               std::to_string(channels) + "-channel frames");
        if (x.empty()) return make_error(ErrorCode::kNoAudioData, "PCM input: no samples");
        for (size_t i = 0; i < x.size(); ++i)
            if (!std::isfinite(x[i]))
                return make_error(ErrorCode::kInvalidArgument,
                                  "PCM input: sample " + std::to_string(i) + " is not a finite number");
        auto plan = make_plan(request);
        if (!plan) return plan.error();
        Source src;
        src.run = [&](const io::DecodeOptions& o, const io::DecodeCallbacks& cb) {
            return feed_pcm(x, channels, sample_rate_hz, o, cb);
        };
        src.content_hash = [&]() -> Result<std::string> {
            return std::string("xxh128:") + core::hash_bytes(x.data(), x.size() * sizeof(float));
        };
        Run run(plan.value(), impl_->options);
        return run.execute(src);
    });
}

}  // namespace harmony
