#pragma once

#include "analyzers/analyzer.hpp"

namespace harmony::analyzers {

/// Beat times and bar positions, the beat grid, downbeats and meter. Shares the rhythm
/// computation of the `tempo` analyzer (run first) and uses its tempo range and tracker settings.
class BeatsAnalyzer : public Analyzer {
public:
    const AnalyzerInfo& info() const override;
    void plan(features::FeatureCache& cache, const ParamSet& params) const override;
    Result<void> analyze(AnalysisContext& ctx) const override;
    bool segmentable() const override { return true; }
};

}  // namespace harmony::analyzers
