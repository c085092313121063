// Deterministic test-signal synthesis: clicks, tones, drum hits, chords. Used by the unit tests,
// the golden tests and `harmony demo` (so a fresh clone can analyse something without any data).
#pragma once

#include <cstdint>
#include <vector>

namespace harmony::dsp::synth {

/// Adds a short click (a 1-sample-wide impulse shaped by a fast exponential) at time t.
void add_click(std::vector<float>& x, int rate_hz, double t_s, float amplitude = 0.9f);

/// Adds a sine tone with a short fade in/out.
void add_tone(std::vector<float>& x, int rate_hz, double t_s, double dur_s, double freq_hz, float amplitude);

/// Adds a harmonic tone (sum of `harmonics` partials with 1/k amplitudes), e.g. a piano-ish note.
void add_harmonic_note(std::vector<float>& x, int rate_hz, double t_s, double dur_s, double freq_hz, float amplitude,
                       int harmonics = 6);

void add_kick(std::vector<float>& x, int rate_hz, double t_s, float amplitude = 0.8f);
void add_snare(std::vector<float>& x, int rate_hz, double t_s, std::uint32_t& rng, float amplitude = 0.5f);
void add_hihat(std::vector<float>& x, int rate_hz, double t_s, std::uint32_t& rng, float amplitude = 0.2f);

double midi_to_hz(double midi, double a4_hz = 440.0);

struct DemoTrack {
    std::vector<float> samples;  // mono
    int rate_hz = 44100;
    double bpm = 120.0;
    int key_pitch_class = 9;  // A
    bool minor = true;
};

/// A 4/4 loop in A minor: drums, bass and chords (i-iv-V-i, one per bar) at `bpm`.
DemoTrack make_demo_track(double seconds = 30.0, double bpm = 120.0, int rate_hz = 44100);

/// A metered rhythm track with exact ground truth: drums (kick on the downbeat, snare on the
/// back-beats, hi-hats on every subdivision) and one chord plus a bass note per bar, or clicks.
struct RhythmSpec {
    double bpm = 120.0;    // tempo of the first beat
    double end_bpm = 0.0;  // > 0: the tempo moves linearly (in time) to this at the end
    double step_s = 0.0;   // > 0 with end_bpm: the tempo jumps to end_bpm on the first beat at or after this time
    int beats_per_bar = 4;
    bool compound = false;         // beats divided in three (6/8, 9/8, 12/8 at the dotted-quarter beat)
    double swing = 0.0;            // 0..1: the off-beat eighth moves from 1/2 to 2/3 of the beat
    double lead_silence_s = 0.0;   // digital silence before the first beat
    int pickup_beats = 0;          // beats before the first downbeat (an anacrusis)
    double seconds = 30.0;         // total length, silence included
    bool clicks = false;           // clicks only: accented on the downbeat
    double timing_jitter_s = 0.0;  // humanised timing (uniform +-jitter), not in the ground truth
    int rate_hz = 22050;
    std::uint32_t seed = 1;
};

struct RhythmTrack {
    std::vector<float> samples;  // mono
    int rate_hz = 22050;
    std::vector<double> beats;   // seconds
    std::vector<int> positions;  // 1-based position in the bar
    std::vector<double> downbeats;
};

RhythmTrack make_rhythm_track(const RhythmSpec& spec);

}  // namespace harmony::dsp::synth
