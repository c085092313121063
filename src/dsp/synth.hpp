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

/// A 4/4 pop loop: drums, bass and chords (i-VI-III-VII in the given key) at `bpm`.
DemoTrack make_demo_track(double seconds = 30.0, double bpm = 120.0, int rate_hz = 44100);

}  // namespace harmony::dsp::synth
