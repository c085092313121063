// Tuning-aware, log-frequency, harmonic-weighted chroma (an HPCP-like pitch-class profile).
//
// Subscribes to a shared STFT (8192-point Blackman-Harris at 22050 Hz by default: 2.7 Hz bins, so
// the bass is resolved). Per frame it picks spectral peaks, refines them by parabolic
// interpolation and maps each peak to a fine pitch-class grid (bins_per_octave bins, default 36:
// 1/3 semitone, triangular interpolation) in two bands: a treble profile (with sub-harmonic
// weighting, so a note's upper partials vote for its fundamental) and a bass profile. It also keeps
// a running, magnitude-weighted histogram of the peaks' deviation from 440 Hz equal temperament;
// the tuning estimate comes from it at the end, and fold() turns a fine frame into 12 tuned bins.
//
// Memory: 2 x bins_per_octave floats + 2 energies per frame (about 5.4 frames/s): bounded and
// small for any file length (10 h ~ 60 MB). No spectrum is kept.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "features/feature_cache.hpp"

namespace harmony::features {

class Chroma : public StreamFeature {
public:
    struct Config {
        int n_fft = 8192;
        int hop = 8192;
        int bins_per_octave = 36;     // fine pitch-class resolution (multiple of 12)
        int harmonics = 6;            // sub-harmonic votes in the treble profile (1 = none)
        double harmonic_decay = 0.8;  // weight of the h-th sub-harmonic: decay^(h-1)
        double treble_min_hz = 100.0;
        double treble_max_hz = 5000.0;
        double bass_min_hz = 30.0;
        double bass_max_hz = 250.0;
        double peak_floor_db = -70.0;       // peaks this far below the frame's maximum are ignored
        double magnitude_power = 1.0;       // a peak votes with amplitude^power
        bool validate_subharmonics = true;  // sub-harmonic votes only where a peak exists
        std::string key() const;
    };

    struct Tuning {
        double cents = 0.0;  // deviation of the reference from A4 = 440 Hz, in [-50, 50)
        double a4_hz = 440.0;
        double confidence = 0.0;  // concentration of the peak deviations, 0..1
    };

    Chroma(FeatureCache& cache, const Config& cfg);

    const Config& config() const { return cfg_; }
    double frame_rate_hz() const { return frame_rate_hz_; }
    std::int64_t frames() const { return static_cast<std::int64_t>(tonal_.size()); }

    /// Fine (untuned) profiles of frame i, bins_per_octave values each; bin 0 is C at 440 Hz ET.
    std::span<const float> treble(std::int64_t i) const;
    std::span<const float> bass(std::int64_t i) const;
    /// Energy in picked peaks / in the whole analysed band, per frame.
    float tonal_energy(std::int64_t i) const { return tonal_[static_cast<size_t>(i)]; }
    float total_energy(std::int64_t i) const { return total_[static_cast<size_t>(i)]; }

    /// Tuning from the peak-deviation histogram (valid after the stream finished).
    Tuning tuning() const;

    /// Folds a fine profile to 12 pitch classes (C = 0) after removing `cents` of detuning.
    std::array<double, 12> fold(std::span<const float> fine, double cents) const;

private:
    void on_frame(std::span<const float> mag);

    Config cfg_;
    double frame_rate_hz_ = 0.0;
    double bin_hz_ = 0.0;
    std::vector<float> treble_;  // frames x bins
    std::vector<float> bass_;
    std::vector<float> tonal_;
    std::vector<float> total_;
    std::array<double, 100> tuning_hist_{};  // 1-cent bins over [-50, 50)
    struct Peak {
        double hz, midi, vote;
    };
    std::vector<Peak> peaks_;  // scratch: the current frame's peaks
    std::vector<float> frame_treble_;
    std::vector<float> frame_bass_;
    std::vector<double> sub_semitones_;  // 12 log2(h): the h-th sub-harmonic, in semitones below
};

}  // namespace harmony::features
