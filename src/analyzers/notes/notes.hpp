// Note analyzer: the melody (lead line) and the bass line of a mix as notes, and the melody's f0
// curve every 10 ms. Classical method (Melodia-style salience, Viterbi pitch tracking with
// voicing, median-filtered note segmentation) or a learned pitch model (pitch_net.hpp, the default);
// method and figures: src/analyzers/notes/README.md.
// Opt-in (`--only ...,notes`): see analyzers::in_default_set.
#pragma once

#include "analyzers/analyzer.hpp"
#include "analyzers/input.hpp"
#include "analyzers/notes/logspec.hpp"
#include "analyzers/notes/pitch_net.hpp"
#include "analyzers/notes/salience.hpp"
#include "analyzers/notes/transcribe.hpp"

namespace harmony::analyzers {

class NotesAnalyzer : public Analyzer {
public:
    struct Config {
        notes::TrackConfig melody_track;
        notes::TrackConfig bass_track;
        double min_note_s = 0.05;
        double onset_rise = 0.6;
        double bass_note_harmonic = 0.3;
        double melody_min_midi = 45.0;
        Input melody_input = Input::kMix;  // the signals analysed (a stem: the stems analyzer runs first)
        Input bass_input = Input::kMix;
        bool learned = true;  // method: the learned pitch model (pitch_net.hpp) or the classical tracker
        std::shared_ptr<const notes::PitchNet> net;  // learned: the loaded model
        std::string model_hash;
        double learned_jump_cost = 4.0;
        double learned_voicing_cost = 1.0;
        double learned_bass_voicing_cost = 5.0;
        double onset_threshold = 0.95;
        double min_confidence = 0.5;
        double onset_search_s = 0.06;
        double bass_min_note_s = 0.1;
    };
    static const AnalyzerInfo& describe();
    static Result<Config> configure(const ParamSet& params);
    explicit NotesAnalyzer(Config config) : cfg_(config) {}

    /// The salience configurations it plans (melody: 2048-point STFT; bass: 4096-point).
    notes::SalienceConfig melody_salience() const;
    static notes::SalienceConfig bass_salience();

    void plan(features::FeatureCache& cache) const override;
    std::vector<std::string> extra_inputs() const override { return stem_reads({cfg_.melody_input, cfg_.bass_input}); }
    Result<void> analyze(Context& ctx) const override;
    /// Long files: each segment is transcribed on its own (10 s of context either side of its
    /// window with the default 20 s overlap) and merge() joins the lines at the segments' cuts: a
    /// note is kept once (one held across a cut, or seen by both segments near it, is joined: its
    /// onset from the segment whose window holds it, its offset likewise) and the f0 curve is
    /// taken on the file's 10 ms grid from the segment whose window holds each frame. On a stem,
    /// the whole file at once (the separation is).
    bool segmentable() const override { return cfg_.melody_input == Input::kMix && cfg_.bass_input == Input::kMix; }
    void merge(const std::vector<pipeline::SegmentResult>& segments, const MergeInfo& info,
               SongMap& out) const override;
    std::string model_hash() const override { return cfg_.learned ? cfg_.model_hash : std::string(); }

private:
    Result<void> analyze_learned(Context& ctx) const;
    void plan_inputs(features::FeatureCache& cache, bool melody, bool bass) const;
    Config cfg_;
};

}  // namespace harmony::analyzers
