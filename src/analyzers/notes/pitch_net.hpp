// The learned note model: a small CNN over the log-frequency spectrogram (logspec.hpp) giving, per
// 20 ms frame, the melody's and the bass line's pitch posteriors (88 semitones from MIDI 21, plus
// 'unvoiced') and per-semitone onset probabilities; decode_line turns one line's posteriors into
// notes and a pitch track (Viterbi over pitch + unvoiced, then runs of one pitch cut at onsets).
// Architecture and training: tools/train_notes/train.py; method and figures:
// src/analyzers/notes/README.md.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "analyzers/notes/logspec.hpp"
#include "harmony/song_map.hpp"
#include "nn/layers.hpp"
#include "nn/weights.hpp"

namespace harmony::analyzers::notes {

inline constexpr int kSemis = 88;  // MIDI 21-108
inline constexpr int kNetMinMidi = 21;

struct LinePosteriors {
    std::int64_t frames = 0;
    std::vector<float> logp;   // [frames][kSemis + 1]: log-probabilities, index kSemis = unvoiced
    std::vector<float> onset;  // [frames][kSemis]: onset probabilities
};

struct PitchPosteriors {
    LinePosteriors melody, bass;
};

class PitchNet {
public:
    /// Loads and checks every tensor (names, shapes; BatchNorms folded); a bad file is an Error.
    static Result<PitchNet> load(const nn::WeightFile& w);
    /// spec: LogSpectrum::normalized() of `frames` frames. Runs in chunks of `chunk` frames (with
    /// the receptive field's context on each side, so the result does not depend on it).
    PitchPosteriors run(std::span<const float> spec, std::int64_t frames, std::int64_t chunk = 1000) const;

    std::int64_t version() const { return version_; }

private:
    std::int64_t version_ = 2;
    nn::Conv2d conv1_, conv2_, conv3_, conv4_, head_;
    nn::Linear unvoiced_;          // version 1: unvoiced logits from the frequency maximum
    std::vector<nn::Conv1d> ctx_;  // version 2: the dilated context network
    nn::Conv1d ctx_out_;           // version 2: pitch-logit biases and unvoiced logits
};

/// The shipped (embedded) model, loaded once, and its weight hash.
Result<std::shared_ptr<const PitchNet>> shipped_pitch_net();
const std::string& shipped_pitch_net_hash();

struct LineDecodeConfig {
    int min_midi = 45;  // pitches searched
    int max_midi = 96;
    double jump_cost = 4.0;         // log-probability cost of a pitch change between frames
    double voicing_cost = 1.0;      // of switching between voiced and unvoiced
    double onset_threshold = 0.95;  // a local maximum of the onset probability above this re-attacks a held pitch
    double min_note_s = 0.05;
    double min_confidence = 0.0;   // notes whose mean pitch posterior is lower are dropped
    double onset_search_s = 0.06;  // a note's onset moves to the onset head's peak this close to its run's start
    double frame_s = 0.02;
};

struct DecodedLine {
    std::vector<Note> notes;
    std::vector<float> midi;   // per frame: the pitch (refined from the spectrogram) when voiced, else 0
    std::vector<float> guess;  // per frame: the most likely pitch, also when unvoiced
};

/// spec (optional, may be empty): the normalized spectrogram, to refine each voiced frame's pitch
/// to a fraction of a semitone (else the pitch track holds whole semitones).
DecodedLine decode_line(const LinePosteriors& post, std::span<const float> spec, const LineDecodeConfig& cfg);

}  // namespace harmony::analyzers::notes
