// Key analyzer: tuning, global key (24 major/minor keys) with confidence and runners-up, Camelot /
// Open Key notation, key segments over time, church-mode reading and a per-estimator breakdown.
// Method and references: src/analyzers/key/README.md.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "analyzers/analyzer.hpp"
#include "analyzers/input.hpp"
#include "analyzers/key/key_profiles.hpp"
#include "features/chroma.hpp"

namespace harmony::analyzers {

/// Tuned 12-bin chroma per frame (treble and bass) plus frame energies: the analyzer's input once
/// the tuning is known. Built from the streaming Chroma feature.
struct KeyFrames {
    double frame_rate_hz = 0.0;
    std::vector<key::Pc12> treble;
    std::vector<key::Pc12> bass;
    std::vector<double> energy;  // total band energy per frame
};

/// Evidence for a key from one stretch of frames (the whole track, or one window).
struct KeyEvidence {
    key::Pc12 treble{};  // frame-normalised, summed
    key::Pc12 bass{};
    std::array<double, 24> chord_hist{};  // major (0..11) and minor (12..23) triads, weighted
    double frames = 0.0;                  // voiced frames that contributed
};

KeyEvidence key_evidence(const KeyFrames& f, size_t begin, size_t end);

/// Per-estimator scores of the 24 keys for a piece of evidence.
key::Scores24 learned_scores(const KeyEvidence& e);
key::Scores24 chord_scores(const KeyEvidence& e);
/// The combined decision score (log-probability up to a constant).
key::Scores24 ensemble_scores(const KeyEvidence& e);

class KeyAnalyzer : public Analyzer {
public:
    struct Config {
        std::string method = "ensemble";
        double reference_hz = 0.0;  // 0: estimate the tuning
        bool segments = true;
        double min_segment_s = 16.0;
        double change_penalty = 20.0;
        double min_tonality = 0.4;
        Input input = Input::kMix;  // the signal analysed (a stem: the stems analyzer runs first)
    };
    static const AnalyzerInfo& describe();
    /// Cross-field rule: a given reference_hz is a plausible A4 (400-480 Hz).
    static Result<Config> configure(const ParamSet& params);
    explicit KeyAnalyzer(Config config) : cfg_(std::move(config)) {}

    void plan(features::FeatureCache& cache) const override;
    std::vector<std::string> extra_inputs() const override { return stem_reads({cfg_.input}); }
    Result<void> analyze(Context& ctx) const override;
    bool segmentable() const override { return cfg_.input == Input::kMix; }
    /// The key held longest across the segments (weighted by confidence), key changes stitched,
    /// tuning as a circular mean.
    void merge(const std::vector<pipeline::SegmentResult>& segments, const MergeInfo& info,
               SongMap& out) const override;

private:
    Config cfg_;
};

}  // namespace harmony::analyzers
