// Sections analyzer: song structure (phrases and sections with repetition letters, functional
// labels and confidences) on the beat grid. Method, label meanings and figures: README.md.
#pragma once

#include "analyzers/analyzer.hpp"
#include "analyzers/sections/structure.hpp"

namespace harmony::analyzers {

class SectionsAnalyzer : public Analyzer {
public:
    using Config = sections::Params;
    static const AnalyzerInfo& describe();
    static Result<Config> configure(const ParamSet& params);
    explicit SectionsAnalyzer(Config config) : cfg_(std::move(config)) {}

    void plan(features::FeatureCache& cache) const override;
    Result<void> analyze(Context& ctx) const override;

private:
    Config cfg_;
};

}  // namespace harmony::analyzers
