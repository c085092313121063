// Pitch salience for the note analyzers (Melodia-style): per STFT frame, the spectral peaks
// (parabolic interpolation of the log magnitude) vote for their sub-harmonics on a 20-cent pitch
// grid (harmonic summation, weight decay^(h-1), cos^2 spread over +-1 semitone). Only the frame's
// strongest salience peaks are kept (pitch, salience, harmonicity), so memory is a few floats per
// 10 ms frame for any file length; no spectrum is kept.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "features/feature_cache.hpp"

namespace harmony::analyzers::notes {

/// One salience peak of a frame.
struct Candidate {
    float midi = 0.0f;      // fractional MIDI pitch (69 = 440 Hz)
    float salience = 0.0f;  // harmonic sum of the peaks' amplitudes
    float harmonic = 0.0f;  // salience / sum of the frame's peak amplitudes (how much one series explains)
};

struct SalienceConfig {
    int n_fft = 2048;
    int hop = 220;           // 10 ms at 22.05 kHz
    double min_midi = 45.0;  // pitch range searched
    double max_midi = 96.0;
    double peak_min_hz = 80.0;  // spectral peaks that vote
    double peak_max_hz = 5000.0;
    int harmonics = 10;
    double decay = 0.8;
    int candidates = 6;         // salience peaks kept per frame
    double floor_db = -50.0;    // peaks this far below the frame's strongest are ignored
    double silence_db = -75.0;  // absolute floor (dB re a full-scale sine)
    std::string key() const;
};

/// Per-frame candidates, strongest first. Pure function of one magnitude frame (tests call it).
std::vector<Candidate> frame_candidates(std::span<const float> magnitude, double bin_hz, const SalienceConfig& cfg);

/// The streamed feature: candidates of every frame of a shared STFT.
class PitchSalience : public features::StreamFeature {
public:
    using Config = SalienceConfig;
    PitchSalience(features::FeatureCache& cache, const Config& cfg);

    const Config& config() const { return cfg_; }
    double frame_rate_hz() const { return frame_rate_hz_; }
    std::int64_t frames() const { return static_cast<std::int64_t>(offsets_.size()); }
    std::span<const Candidate> frame(std::int64_t i) const;

private:
    Config cfg_;
    double bin_hz_ = 0.0;
    double frame_rate_hz_ = 0.0;
    std::vector<Candidate> cands_;
    std::vector<std::uint32_t> offsets_;  // start of frame i in cands_ (end: next start)
};

}  // namespace harmony::analyzers::notes
