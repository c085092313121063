// Tempo analyzer. Method and references: src/analyzers/tempo/README.md.
#pragma once

#include <memory>

#include "analyzers/analyzer.hpp"
#include "analyzers/rhythm/rhythm.hpp"

namespace harmony::analyzers {

/// The shared rhythm computation tempo hands to beats (typed artifact): the parameters it ran with
/// and the full analysis (tempo, beats, downbeats, meter).
struct RhythmArtifact {
    rhythm::Params params;
    rhythm::Analysis analysis;
};

/// Global tempo (BPM to 0.01 from a fit over the tracked beats), alternatives, tempo curve, the
/// per-estimator breakdown and a "no tempo" answer for silence and beatless audio.
class TempoAnalyzer : public Analyzer {
public:
    struct Config {
        rhythm::Params rhythm;
    };
    static const AnalyzerInfo& describe();
    /// Cross-field rule: min_bpm < max_bpm.
    static Result<Config> configure(const ParamSet& params);
    explicit TempoAnalyzer(Config config) : cfg_(std::move(config)) {}

    void plan(features::FeatureCache& cache) const override;
    Result<void> analyze(Context& ctx) const override;
    bool segmentable() const override { return true; }
    std::string model_hash() const override { return cfg_.rhythm.model_hash; }
    void merge(const std::vector<pipeline::SegmentResult>& segments, const MergeInfo& info,
               SongMap& out) const override;

private:
    Config cfg_;
};

}  // namespace harmony::analyzers
