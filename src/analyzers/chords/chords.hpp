// Chord analyzer: a chord timeline on the beat grid (Harte labels, display names, root, quality,
// bass, confidence and runners-up) in three vocabularies (majmin, sevenths, full). A tuned treble
// and bass chroma pooled over half beats, a root-equivariant network (src/nn) and a Viterbi
// decoder with a change penalty. Method, training and figures: src/analyzers/chords/README.md.
#pragma once

#include <memory>
#include <string>

#include "analyzers/analyzer.hpp"
#include "analyzers/chords/chord_features.hpp"
#include "analyzers/chords/chord_labels.hpp"
#include "analyzers/input.hpp"

namespace harmony::analyzers {

class ChordsAnalyzer : public Analyzer {
public:
    struct Config {
        chords::Vocabulary vocabulary = chords::Vocabulary::kFull;
        double change_penalty = 1.5;    // log-probability cost of a chord change (tuned on dev)
        double offbeat_penalty = 3.0;   // extra cost of a change between two beats
        double reference_hz = 0.0;      // 0: estimate the tuning
        double prior_correction = 0.0;  // posteriors divided by the class frequency^this
        std::shared_ptr<const chords::ChordNet> net;
        std::string model_hash;
        Input input = Input::kMix;  // the signal analysed (a stem: the stems analyzer runs first)
    };
    static const AnalyzerInfo& describe();
    /// Loads the model (the shipped one, or the file named by `model`); a bad file is an error.
    static Result<Config> configure(const ParamSet& params);
    explicit ChordsAnalyzer(Config config) : cfg_(std::move(config)) {}

    void plan(features::FeatureCache& cache) const override;
    std::vector<std::string> extra_inputs() const override { return stem_reads({cfg_.input}); }
    Result<void> analyze(Context& ctx) const override;
    /// Long files: each segment is decoded on its own (its window has 10 s of context either side
    /// with the default 20 s overlap) and the timelines are joined at the segments' cuts, moved to
    /// the nearest beat (merge()). On a stem, the whole file at once (the separation is).
    bool segmentable() const override { return cfg_.input == Input::kMix; }
    void merge(const std::vector<pipeline::SegmentResult>& segments, const MergeInfo& info,
               SongMap& out) const override;
    std::string model_hash() const override { return cfg_.model_hash; }

private:
    Config cfg_;
};

}  // namespace harmony::analyzers
