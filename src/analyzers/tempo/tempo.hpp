#pragma once

#include "analyzers/analyzer.hpp"

namespace harmony::analyzers {

/// Global tempo (BPM to 0.01 from a fit over the tracked beats), alternatives, tempo curve, the
/// per-estimator breakdown and a "no tempo" answer for silence and beatless audio.
class TempoAnalyzer : public Analyzer {
public:
    const AnalyzerInfo& info() const override;
    void plan(features::FeatureCache& cache, const ParamSet& params) const override;
    Result<void> analyze(AnalysisContext& ctx) const override;
    bool segmentable() const override { return true; }
};

}  // namespace harmony::analyzers
