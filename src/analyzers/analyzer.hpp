// Internal analyzer interface. An analyzer is stateless: plan() requests the shared features it
// needs (before decoding), analyze() reads them and writes its parts of the Song Map. The engine
// fills each produced part's provenance (id, version, params, elapsed) afterwards.
#pragma once

#include <functional>
#include <map>
#include <stop_token>
#include <string>

#include "features/feature_cache.hpp"
#include "harmony/analyzer.hpp"
#include "harmony/error.hpp"
#include "harmony/song_map.hpp"

namespace harmony::analyzers {

/// Effective parameters of one analyzer: defaults overlaid with validated overrides.
class ParamSet {
public:
    ParamSet() = default;
    explicit ParamSet(std::map<std::string, ParamValue> values) : values_(std::move(values)) {}
    double get_double(const std::string& name) const;
    std::int64_t get_int(const std::string& name) const;
    bool get_bool(const std::string& name) const;
    const std::string& get_string(const std::string& name) const;
    const std::map<std::string, ParamValue>& values() const { return values_; }

private:
    std::map<std::string, ParamValue> values_;
};

/// Builds a ParamSet from specs + textual overrides ("85", "true", "edma").
Result<ParamSet> resolve_params(const AnalyzerInfo& info, const std::map<std::string, std::string>& overrides);

struct AnalysisContext {
    features::FeatureCache& features;
    const ParamSet& params;
    SongMap& song;  // parts written by analyzers that ran earlier are available
    std::stop_token stop;
    std::function<void(double)> progress;  // fraction of this analyzer's work, 0..1
};

class Analyzer {
public:
    virtual ~Analyzer() = default;
    virtual const AnalyzerInfo& info() const = 0;
    virtual void plan(features::FeatureCache& /*cache*/, const ParamSet& /*params*/) const {}
    virtual Result<void> analyze(AnalysisContext& ctx) const = 0;
    /// True when the analyzer can run on segments of a long file whose results the engine merges
    /// (pipeline/segments.hpp): its features must be mono and its parts mergeable.
    virtual bool segmentable() const { return false; }
};

/// The one explicit list of analyzers (registry.cpp), in default run order.
const std::vector<const Analyzer*>& registry();
const Analyzer* find_analyzer(const std::string& id);

}  // namespace harmony::analyzers
