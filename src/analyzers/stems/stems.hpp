#pragma once

#include <optional>
#include <string>

#include "analyzers/analyzer.hpp"
#include "analyzers/stems/mask_model.hpp"
#include "analyzers/stems/separation.hpp"

namespace harmony::analyzers {

/// Source separation into vocals, drums, bass and other (opt-in: `--stems DIR`, or --only stems).
/// Reads the whole signal at the source rate in stereo; a mono source (identical channels) gives
/// mono stems. With `dir` set, writes `DIR/{vocals,drums,bass,other}.wav` (32-bit float; or .flac,
/// 24-bit, with format=flac; the source rate, sample-aligned with the decoded input) block by
/// block, so its working memory does not grow with the file's length. Hands every stem, mono at
/// the analysis rate, to the analyzers that read a stem (StemSignals, analyzers/input.hpp).
class StemsAnalyzer : public Analyzer {
public:
    struct Config {
        std::string dir;         // empty: separate (Song Map figures) without writing files
        bool flac = false;       // files as 24-bit FLAC instead of 32-bit float WAV
        std::string method;      // "learned" or "hpss-median"
        std::string model_path;  // the learned model's weight file
        stems::SeparationConfig separation;
    };
    /// The weight file used when stems.model is empty (the one trained by tools/train_stems).
    static std::string default_model_path();
    static const AnalyzerInfo& describe();
    static Result<Config> configure(const ParamSet& p);
    /// Loads the learned model (method "learned"); a missing or corrupt file is not fatal here:
    /// analyze() then fails with its error and the rest of the Song Map is still produced.
    explicit StemsAnalyzer(Config c);

    std::vector<AudioRequest> audio_inputs() const override { return {AudioRequest{0, 2}}; }
    Result<void> analyze(Context& ctx) const override;
    std::string model_hash() const override { return model_ && *model_ ? (*model_)->hash() : std::string(); }

private:
    Config cfg_;
    std::optional<Result<stems::MaskModel>> model_;  // set for the method "learned"
};

}  // namespace harmony::analyzers
