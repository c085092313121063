// Shared rhythm computation behind the `tempo` and `beats` analyzers: onset novelty -> windowed
// autocorrelation tempogram -> comb-filter tempo salience per band -> octave resolution ->
// dynamic-programming beat tracking that follows the local tempo -> least-squares tempo fit ->
// bar phase and meter from beat-synchronous accents (low-band onsets, harmonic change).
// Computed once per file by the tempo analyzer, which hands it to beats as a typed artifact.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "features/beat_spectrogram.hpp"
#include "features/feature_cache.hpp"
#include "features/rhythm_features.hpp"
#include "harmony/song_map.hpp"

namespace harmony::rhythm {

class BeatNet;

struct Params {
    double min_bpm = 0.0;            // DJ range: the answer is folded into [min_bpm, max_bpm] when set
    double max_bpm = 0.0;            // 0/0: automatic octave choice over the full 50-220 BPM range
    double tightness = 300.0;        // beat tracker: how strongly inter-beat intervals keep the tempo
    bool snap_grid = true;           // stable tempo: beats are placed on the fitted constant grid
    std::string meter = "auto";      // or a forced "4/4", "3/4", ...
    std::string bar_phase = "fold";  // "fold": one bar phase per track; "hmm": the phase may jump
    // Learned front end (beat_net.hpp): "" = none; its beat activation is blended into the curve
    // the tracker follows (nn_mix: 0 = onset novelty only, 1 = activation only) and its downbeat
    // activation joins the bar accents with weight nn_bar_weight.
    std::string model;
    std::string model_hash;
    std::shared_ptr<const BeatNet> net;
    double nn_mix = 0.0;
    double nn_bar_weight = 2.0;
    bool nn_tempo = false;       // the tempogram and octave cues read the blended curve too
    bool nn_phase_check = true;  // the half-beat phase check (bass onsets, chord changes) runs too
    std::string key() const;
};

struct Analysis {
    Tempo tempo;
    Beats beats;
    Downbeats downbeats;
    std::optional<Meter> meter;
    bool has_beats = false;
};

/// `spec` (may be null) is the learned front end's input; it is read when params.net is set.
Analysis analyze(const features::RhythmFeatures& features, const Params& params,
                 const features::BeatSpectrogram* spec = nullptr);

}  // namespace harmony::rhythm
