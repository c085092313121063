#pragma once

#include "analyzers/analyzer.hpp"

namespace harmony::analyzers {

/// Beat times and bar positions, the beat grid, downbeats and meter. Reads the rhythm
/// computation of the `tempo` analyzer (its typed artifact: tempo range and tracker settings
/// included) and decodes the bars again only when a meter or the bar-phase decoder is chosen.
class BeatsAnalyzer : public Analyzer {
public:
    struct Config {
        std::string meter = "auto";
        std::string bar_phase = "fold";
    };
    static const AnalyzerInfo& describe();
    static Result<Config> configure(const ParamSet& params);
    explicit BeatsAnalyzer(Config config) : cfg_(std::move(config)) {}

    void plan(features::FeatureCache& cache) const override;
    Result<void> analyze(Context& ctx) const override;
    bool segmentable() const override { return true; }
    /// Beats stitched at the overlaps, downbeats likewise, the meter held longest.
    void merge(const std::vector<pipeline::SegmentResult>& segments, const MergeInfo& info,
               SongMap& out) const override;

private:
    Config cfg_;
};

}  // namespace harmony::analyzers
