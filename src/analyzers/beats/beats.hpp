#pragma once

#include "analyzers/analyzer.hpp"
#include "analyzers/input.hpp"

namespace harmony::analyzers {

/// Beat times and bar positions, the beat grid, downbeats and meter. Reads the rhythm
/// computation of the `tempo` analyzer (its typed artifact: tempo range and tracker settings
/// included) and decodes the bars again only when a meter or the bar-phase decoder is chosen.
class BeatsAnalyzer : public Analyzer {
public:
    struct Config {
        std::string meter = "auto";
        std::string bar_phase = "fold";
        Input input = Input::kMix;  // a stem: the beats are tracked again on it (tempo's settings)
    };
    static const AnalyzerInfo& describe();
    static Result<Config> configure(const ParamSet& params);
    explicit BeatsAnalyzer(Config config) : cfg_(std::move(config)) {}

    void plan(features::FeatureCache& cache) const override;
    std::vector<std::string> extra_inputs() const override { return stem_reads({cfg_.input}); }
    Result<void> analyze(Context& ctx) const override;
    bool segmentable() const override { return cfg_.input == Input::kMix; }
    /// Beats stitched at the overlaps, downbeats likewise, the meter held longest.
    void merge(const std::vector<pipeline::SegmentResult>& segments, const MergeInfo& info,
               SongMap& out) const override;

private:
    Config cfg_;
};

}  // namespace harmony::analyzers
