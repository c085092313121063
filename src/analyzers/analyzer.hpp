// Internal analyzer interface (Engine v2).
//
// A registry entry (AnalyzerDef) describes an analyzer: its public info (id, version, parameters,
// the analyzers whose results it reads, the Song Map parts it writes) and a factory that turns
// validated parameters into a typed Config, checking cross-field rules, and builds an instance
// (loading its model, if it has one). The engine does all of this in resolve(), before any
// decoding, so a bad request is a usage error and never costs a decode.
//
// An instance is immutable: plan() requests the streamed features it reads, audio_inputs() the
// whole-signal buffers (other rates or channel layouts), analyze() is const and thread-safe and
// writes only its own parts into ctx.out. Independent analyzers run in parallel; an analyzer
// hands typed results to its consumers through ctx.artifacts (freed after the last consumer).
// Long files: an analyzer that can run on segments says so (segmentable()) and owns the merge of
// its parts (merge()).
#pragma once

#include <any>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "features/feature_cache.hpp"
#include "harmony/analyzer.hpp"
#include "harmony/audio.hpp"
#include "harmony/error.hpp"
#include "harmony/song_map.hpp"
#include "pipeline/parts.hpp"
#include "pipeline/segments.hpp"

namespace harmony::analyzers {

/// Effective parameters of one analyzer: defaults overlaid with validated overrides. Only used to
/// build an analyzer's typed Config; a name or type that does not match the analyzer's own
/// declaration is a programmer error, caught by the registry test that builds every analyzer.
class ParamSet {
public:
    ParamSet() = default;
    explicit ParamSet(std::map<std::string, ParamValue> values) : values_(std::move(values)) {}
    double get_double(const std::string& name) const noexcept;
    std::int64_t get_int(const std::string& name) const noexcept;
    bool get_bool(const std::string& name) const noexcept;
    std::string get_string(const std::string& name) const;
    const std::map<std::string, ParamValue>& values() const { return values_; }

private:
    std::map<std::string, ParamValue> values_;
};

/// Builds a ParamSet from specs + textual overrides ("85", "true", "edma").
Result<ParamSet> resolve_params(const AnalyzerInfo& info, const std::map<std::string, std::string>& overrides);

/// Whole-signal audio an analyzer asks for beside the streamed features.
struct AudioRequest {
    int rate_hz = 0;   // 0: the source rate
    int channels = 1;  // 1: mono (channel average); 2: stereo (a mono source is duplicated)
    auto operator<=>(const AudioRequest&) const = default;
};

/// Typed results an analyzer hands to the analyzers that read it, beside its Song Map parts
/// (e.g. tempo's full rhythm analysis for beats). Keyed by the producer's id; thread-safe.
class Artifacts {
public:
    template <class T>
    void put(std::string_view producer, std::shared_ptr<const T> value) {
        std::lock_guard lock(mu_);
        items_[std::string(producer)] = std::move(value);
    }
    /// The producer's result of type T, or nullptr (none, or another type).
    template <class T>
    std::shared_ptr<const T> get(std::string_view producer) const {
        std::lock_guard lock(mu_);
        auto it = items_.find(std::string(producer));
        if (it == items_.end()) return nullptr;
        const auto* p = std::any_cast<std::shared_ptr<const T>>(&it->second);
        return p ? *p : nullptr;
    }
    void release(std::string_view producer) {
        std::lock_guard lock(mu_);
        items_.erase(std::string(producer));
    }
    std::size_t size() const {
        std::lock_guard lock(mu_);
        return items_.size();
    }

private:
    mutable std::mutex mu_;
    std::map<std::string, std::any> items_;
};

struct Context {
    const features::FeatureCache& features;  // the streamed features this analyzer planned
    const SongMap& inputs;                   // parts written by the analyzers it reads (finished)
    SongMap& out;                            // its own parts go here (and nothing else)
    Artifacts& artifacts;
    std::stop_token stop;
    std::function<void(double)> progress;  // fraction of this analyzer's work, 0..1 (may be empty)
    std::function<const AudioBuffer*(const AudioRequest&)> audio;  // its audio_inputs() (may be empty)
    bool has_readers = true;  // false: no analyzer of this run reads its results (skip costly artifacts)

    bool cancelled() const { return stop.stop_requested(); }
    void report(double fraction) const {
        if (progress) progress(fraction);
    }
};

/// How a segmented analyzer's parts are merged: the segments (times already in file time), the
/// total duration kept and a sentence describing the method (for the decisions).
struct MergeInfo {
    double segment_s = 0.0;
    double overlap_s = 0.0;
    double total_kept_s = 0.0;
    std::string method;
};

class Analyzer {
public:
    virtual ~Analyzer() = default;
    /// Requests the streamed features it reads (before decoding).
    virtual void plan(features::FeatureCache& /*cache*/) const {}
    /// Whole-signal buffers it reads (whole-file analyzers only).
    virtual std::vector<AudioRequest> audio_inputs() const { return {}; }
    /// Analyzers this instance reads beside its declared ones (AnalyzerInfo::depends_on), chosen by
    /// its parameters: e.g. "stems" when it analyses a separated stem instead of the mix. The
    /// engine adds them to the selection and to the graph's edges.
    virtual std::vector<std::string> extra_inputs() const { return {}; }
    virtual Result<void> analyze(Context& ctx) const = 0;
    /// True when it can run on segments of a long file (mono streamed features only) and merge().
    virtual bool segmentable() const { return false; }
    /// Merges its parts from the segments' maps into out (which holds the parts of the analyzers it
    /// reads, already merged).
    virtual void merge(const std::vector<pipeline::SegmentResult>& /*segments*/, const MergeInfo& /*info*/,
                       SongMap& /*out*/) const {}
    /// Content hash of its model (empty when it has none): part of the cache key.
    virtual std::string model_hash() const { return {}; }
};

struct AnalyzerDef {
    AnalyzerInfo info;
    std::vector<pipeline::Part> parts;  // info.produces, typed
    std::function<Result<std::unique_ptr<const Analyzer>>(const ParamSet&)> create;
};

/// Registry entry for an analyzer class T with `static const AnalyzerInfo& describe()`,
/// `static Result<typename T::Config> configure(const ParamSet&)` and a constructor from Config.
template <class T>
AnalyzerDef define() {
    AnalyzerDef d;
    d.info = T::describe();
    for (const auto& name : d.info.produces)
        if (const auto* t = pipeline::find_part(name)) d.parts.push_back(t->part);
    d.create = [](const ParamSet& p) -> Result<std::unique_ptr<const Analyzer>> {
        auto c = T::configure(p);
        if (!c) return c.error();
        return std::unique_ptr<const Analyzer>(std::make_unique<const T>(std::move(c.value())));
    };
    return d;
}

/// The one explicit list of analyzers (registry.cpp), in default run order.
const std::vector<AnalyzerDef>& registry();
const AnalyzerDef* find_analyzer(std::string_view id);

namespace testing {
/// Tests only: adds analyzers to the registry for the lifetime of the object (fakes that fail,
/// throw, read other analyzers or ask for whole-signal audio), so the graph can be tested end to
/// end. Not thread-safe: no analysis may run while one is created or destroyed.
class ExtraAnalyzers {
public:
    explicit ExtraAnalyzers(std::vector<AnalyzerDef> defs);
    ~ExtraAnalyzers();
    ExtraAnalyzers(const ExtraAnalyzers&) = delete;
    ExtraAnalyzers& operator=(const ExtraAnalyzers&) = delete;

private:
    std::size_t count_;
};
}  // namespace testing

}  // namespace harmony::analyzers
