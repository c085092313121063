#pragma once

#include <memory>

#include "analyzers/analyzer.hpp"

namespace harmony::analyzers {

/// Streaming EBU R128 meter (libebur128) on the source-rate, all-channel signal.
class LoudnessMeter : public features::StreamFeature {
public:
    struct Config {
        std::string key() const { return "r128"; }
    };
    LoudnessMeter(features::FeatureCache& cache, const Config& cfg);
    ~LoudnessMeter() override;
    bool wants_native() const override { return true; }
    void on_native(std::span<const float> interleaved, int channels, int rate_hz) override;
    void finish() override;

    /// Fills every figure; false when the meter never saw audio.
    bool result(Loudness& out) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Whole-file statistics (not segmentable: its meter keeps bounded histograms instead).
class LoudnessAnalyzer : public Analyzer {
public:
    struct Config {};
    static const AnalyzerInfo& describe();
    static Result<Config> configure(const ParamSet&) { return Config{}; }
    explicit LoudnessAnalyzer(Config) {}

    void plan(features::FeatureCache& cache) const override;
    Result<void> analyze(Context& ctx) const override;
};

}  // namespace harmony::analyzers
