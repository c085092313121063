// From salience candidates to a pitch track and notes (shared by the melody and bass lines).
//
// track_pitch: a Viterbi path over each frame's candidates plus an unvoiced state. A candidate
// scores log(salience / reference) (reference: a high percentile of the frame-best salience over
// the file); the unvoiced state scores log(voicing); a pitch jump costs jump_cost per semitone and
// switching voicing costs voicing_cost. Candidates that explain too little of their frame's peak
// energy (noise, drums) are never voiced.
//
// segment_notes: each voiced run is cut where its running median pitch (over about one vibrato
// cycle, so vibrato stays one note) leaves the current note's level by more than change_st for
// three frames, and where the line's salience jumps up (a re-attack of the same pitch). Pieces
// shorter than min_note_s, and glides (fewer than half their frames within 35 cents of their
// pitch), join the neighbour of nearest pitch, so a scoop into a note or a fall off it is no note
// of its own. A note left unstable, or whose strength decays like a drum body, is dropped. The
// pitch is the median over the note, rounded after the tuning is removed.
#pragma once

#include <span>
#include <vector>

#include "analyzers/notes/salience.hpp"
#include "harmony/song_map.hpp"

namespace harmony::analyzers::notes {

struct TrackConfig {
    double voicing = 0.12;         // unvoiced below this fraction of the reference salience
    double min_harmonic = 0.12;    // candidates explaining less of their frame are never voiced
    double jump_cost = 0.35;       // per semitone of jump between frames
    double max_jump_st = 12.0;     // jumps cost at most this many semitones
    double voicing_cost = 1.5;     // switching between voiced and unvoiced
    double ref_percentile = 0.95;  // of the frame-best salience (harmonic frames only)
    double pitch_bias = 0.0;       // added to a candidate's score per octave above MIDI 60 (melody > 0, bass < 0)
};

struct PitchTrack {
    std::vector<float> midi;      // per frame: the pitch when voiced, else 0
    std::vector<float> guess;     // per frame: the best candidate (also when unvoiced), 0 when none
    std::vector<float> strength;  // per frame: the chosen candidate's salience / reference (0 when unvoiced)
    std::vector<float> harmonic;  // per frame: the chosen candidate's harmonicity (0 when unvoiced)
};

PitchTrack track_pitch(std::span<const std::span<const Candidate>> frames, const TrackConfig& cfg);

struct NoteConfig {
    double frame_s = 220.0 / 22050.0;
    double min_note_s = 0.05;
    double change_st = 0.6;
    double median_s = 0.15;   // running median window (about one vibrato cycle)
    double onset_rise = 0.6;  // log-salience rise over the last 50 ms that starts a new note
    double tuning_cents = 0.0;
    double max_decay_per_s = 8.0;    // notes whose log strength falls faster (a drum body) are dropped
    double min_note_harmonic = 0.0;  // notes whose mean harmonicity is lower (noisy: drums) are dropped
};

/// Tuning of a track: the salience-weighted circular mean of the voiced pitches' deviation from
/// the semitone grid, in cents in [-50, 50).
double estimate_tuning_cents(const PitchTrack& track);

std::vector<Note> segment_notes(const PitchTrack& track, const NoteConfig& cfg);

}  // namespace harmony::analyzers::notes
