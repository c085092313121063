#include "dsp/synth.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace harmony::dsp::synth {

namespace {
float noise(std::uint32_t& s) {  // xorshift32, uniform in [-1, 1)
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    return static_cast<float>(s) / 2147483648.0f - 1.0f;
}
void ensure(std::vector<float>& x, size_t n) {
    if (x.size() < n) x.resize(n, 0.0f);
}
}  // namespace

double midi_to_hz(double midi, double a4_hz) {
    return a4_hz * std::pow(2.0, (midi - 69.0) / 12.0);
}

void add_click(std::vector<float>& x, int rate_hz, double t_s, float amplitude) {
    const auto start = static_cast<size_t>(std::llround(t_s * rate_hz));
    const size_t len = static_cast<size_t>(rate_hz / 500);  // 2 ms decay
    ensure(x, start + len);
    for (size_t i = 0; i < len; ++i) x[start + i] += amplitude * std::exp(-static_cast<float>(i) / (len / 8.0f));
}

void add_tone(std::vector<float>& x, int rate_hz, double t_s, double dur_s, double freq_hz, float amplitude) {
    const auto start = static_cast<size_t>(std::llround(t_s * rate_hz));
    const auto len = static_cast<size_t>(dur_s * rate_hz);
    const size_t fade = std::min<size_t>(len / 4, static_cast<size_t>(rate_hz / 200));
    ensure(x, start + len);
    const double w = 2.0 * std::numbers::pi * freq_hz / rate_hz;
    for (size_t i = 0; i < len; ++i) {
        float g = 1.0f;
        if (i < fade) g = static_cast<float>(i) / fade;
        if (len - i < fade) g = static_cast<float>(len - i) / fade;
        x[start + i] += amplitude * g * static_cast<float>(std::sin(w * static_cast<double>(i)));
    }
}

void add_harmonic_note(std::vector<float>& x, int rate_hz, double t_s, double dur_s, double freq_hz, float amplitude,
                       int harmonics) {
    const auto start = static_cast<size_t>(std::llround(t_s * rate_hz));
    const auto len = static_cast<size_t>(dur_s * rate_hz);
    const size_t fade = static_cast<size_t>(rate_hz / 200);
    ensure(x, start + len);
    const double nyquist = rate_hz / 2.0;
    for (size_t i = 0; i < len; ++i) {
        const double t = static_cast<double>(i) / rate_hz;
        double v = 0.0;
        for (int k = 1; k <= harmonics && k * freq_hz < nyquist; ++k)
            v += std::sin(2.0 * std::numbers::pi * k * freq_hz * t) / k;
        float g = static_cast<float>(std::exp(-2.0 * t));  // plucked decay
        if (i < fade) g *= static_cast<float>(i) / fade;
        if (len - i < fade) g *= static_cast<float>(len - i) / fade;
        x[start + i] += amplitude * g * static_cast<float>(v);
    }
}

void add_kick(std::vector<float>& x, int rate_hz, double t_s, float amplitude) {
    const auto start = static_cast<size_t>(std::llround(t_s * rate_hz));
    const auto len = static_cast<size_t>(0.25 * rate_hz);
    ensure(x, start + len);
    double phase = 0.0;
    for (size_t i = 0; i < len; ++i) {
        const double t = static_cast<double>(i) / rate_hz;
        const double f = 50.0 + 100.0 * std::exp(-t * 30.0);  // pitch drop
        phase += 2.0 * std::numbers::pi * f / rate_hz;
        x[start + i] += amplitude * static_cast<float>(std::exp(-t * 12.0) * std::sin(phase));
    }
}

void add_snare(std::vector<float>& x, int rate_hz, double t_s, std::uint32_t& rng, float amplitude) {
    const auto start = static_cast<size_t>(std::llround(t_s * rate_hz));
    const auto len = static_cast<size_t>(0.18 * rate_hz);
    ensure(x, start + len);
    for (size_t i = 0; i < len; ++i) {
        const double t = static_cast<double>(i) / rate_hz;
        const double body = 0.4 * std::sin(2.0 * std::numbers::pi * 190.0 * t) * std::exp(-t * 25.0);
        x[start + i] += amplitude * static_cast<float>(body + noise(rng) * std::exp(-t * 20.0));
    }
}

void add_hihat(std::vector<float>& x, int rate_hz, double t_s, std::uint32_t& rng, float amplitude) {
    const auto start = static_cast<size_t>(std::llround(t_s * rate_hz));
    const auto len = static_cast<size_t>(0.05 * rate_hz);
    ensure(x, start + len);
    float prev = 0.0f;
    for (size_t i = 0; i < len; ++i) {
        const float n = noise(rng);
        const float hp = n - prev;  // crude high-pass
        prev = n;
        x[start + i] += amplitude * hp * static_cast<float>(std::exp(-static_cast<double>(i) / rate_hz * 60.0));
    }
}

DemoTrack make_demo_track(double seconds, double bpm, int rate_hz) {
    DemoTrack d;
    d.rate_hz = rate_hz;
    d.bpm = bpm;
    d.samples.assign(static_cast<size_t>(seconds * rate_hz), 0.0f);
    std::uint32_t rng = 0x12345678u;
    const double beat = 60.0 / bpm;
    // A minor: i (Am) - iv (Dm) - V (E, with the leading tone G#) - i (Am), one chord per bar.
    // (Am-F-C-G, the earlier loop, is just as much vi-IV-I-V in C major.) MIDI roots.
    const int roots[4] = {57, 50, 52, 57};
    const bool minor_chord[4] = {true, true, false, true};
    const int bars = static_cast<int>(seconds / (4 * beat));
    for (int bar = 0; bar < bars; ++bar) {
        const double t0 = bar * 4 * beat;
        const int c = bar % 4;
        const int third = minor_chord[c] ? 3 : 4;
        for (int n : {0, third, 7})
            add_harmonic_note(d.samples, rate_hz, t0, 4 * beat, midi_to_hz(roots[c] + 12 + n), 0.06f);
        for (int b = 0; b < 4; ++b) {
            const double t = t0 + b * beat;
            add_harmonic_note(d.samples, rate_hz, t, beat * 0.9, midi_to_hz(roots[c] - 12), 0.12f, 4);
            if (b == 0 || b == 2) add_kick(d.samples, rate_hz, t, b == 0 ? 0.8f : 0.65f);
            if (b == 1 || b == 3) add_snare(d.samples, rate_hz, t, rng, 0.35f);
            add_hihat(d.samples, rate_hz, t, rng, 0.12f);
            add_hihat(d.samples, rate_hz, t + beat / 2, rng, 0.08f);
        }
    }
    d.samples.resize(static_cast<size_t>(seconds * rate_hz));
    float peak = 0.0f;
    for (float v : d.samples) peak = std::max(peak, std::abs(v));
    if (peak > 0)
        for (float& v : d.samples) v *= 0.89f / peak;
    return d;
}

RhythmTrack make_rhythm_track(const RhythmSpec& spec) {
    RhythmTrack r;
    r.rate_hz = spec.rate_hz;
    const int rate = spec.rate_hz;
    r.samples.assign(static_cast<size_t>(spec.seconds * rate), 0.0f);
    std::uint32_t rng = spec.seed * 2654435761u + 12345u;
    const double music_s = spec.seconds - spec.lead_silence_s;
    auto bpm_at = [&](double t) {
        if (spec.end_bpm <= 0.0 || music_s <= 0.0) return spec.bpm;
        if (spec.step_s > 0.0) return t < spec.step_s ? spec.bpm : spec.end_bpm;
        const double a = std::clamp((t - spec.lead_silence_s) / music_s, 0.0, 1.0);
        return spec.bpm + (spec.end_bpm - spec.bpm) * a;
    };
    auto jitter = [&]() { return spec.timing_jitter_s * static_cast<double>(noise(rng)); };
    auto when = [&](double at) { return std::max(0.0, at + jitter()); };
    // I - vi - IV - V in C, one chord per bar (MIDI roots).
    const int roots[4] = {48, 45, 53, 55};
    const bool minor_chord[4] = {false, true, false, false};
    const int m = std::max(1, spec.beats_per_bar);
    const int sub = spec.compound ? 3 : 2;
    int index = -spec.pickup_beats;  // beat index relative to the first downbeat
    for (double t = spec.lead_silence_s; t < spec.seconds - 0.05; ++index) {
        const double beat = 60.0 / bpm_at(t);
        const int pos = ((index % m) + m) % m;
        r.beats.push_back(t);
        r.positions.push_back(pos + 1);
        if (pos == 0) r.downbeats.push_back(t);
        if (spec.clicks) {
            add_click(r.samples, rate, t, pos == 0 ? 0.9f : 0.45f);
        } else {
            const int bar = index >= 0 ? index / m : (index - m + 1) / m;
            const int c = ((bar % 4) + 4) % 4;
            if (pos == 0) {
                const double bar_s = beat * m;
                for (int n : {0, minor_chord[c] ? 3 : 4, 7})
                    add_harmonic_note(r.samples, rate, when(t), bar_s, midi_to_hz(roots[c] + 12 + n), 0.05f);
                add_harmonic_note(r.samples, rate, when(t), bar_s * 0.9, midi_to_hz(roots[c] - 12), 0.12f, 4);
            }
            const bool backbeat = m == 3 ? pos != 0 : (m == 2 ? pos == 1 : pos % 2 == 1);
            if (pos == 0 || (m >= 4 && pos == 2 && m % 2 == 0))
                add_kick(r.samples, rate, when(t), pos == 0 ? 0.8f : 0.6f);
            if (backbeat) add_snare(r.samples, rate, when(t), rng, m == 3 ? 0.25f : 0.35f);
            for (int k = 0; k < sub; ++k) {
                double frac = static_cast<double>(k) / sub;
                if (sub == 2 && k == 1) frac = 0.5 + spec.swing / 6.0;
                add_hihat(r.samples, rate, when(t + frac * beat), rng, k == 0 ? 0.12f : 0.07f);
            }
        }
        t += beat;
    }
    r.samples.resize(static_cast<size_t>(spec.seconds * rate));
    float peak = 0.0f;
    for (float v : r.samples) peak = std::max(peak, std::abs(v));
    if (peak > 0)
        for (float& v : r.samples) v *= 0.89f / peak;
    return r;
}

}  // namespace harmony::dsp::synth
