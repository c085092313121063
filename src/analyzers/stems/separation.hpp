// Source separation into four stems (vocals, drums, bass, other), chunked with overlap-add so the
// working memory is bounded whatever the length of the input.
//
// The separator here is the classical baseline (the fallback and the benchmark's floor):
// harmonic/percussive separation by median filtering (Fitzgerald 2010) on the magnitude STFT of the
// channel average; drums = the percussive share; bass = the harmonic share below a low-pass corner;
// vocals = the part of the harmonic share above it that a long time-median (the stationary
// accompaniment) does not explain, in the voice band (the two-stage median idea of Fitzgerald &
// Gainza 2010); other = the rest. Soft (Wiener-like) masks that sum to one are applied to every
// channel's complex STFT, so the four stems sum to the mix; `other` is finally set to the mix minus
// the three others, which makes the sum exact in float.
//
// Chunks: the signal is cut into blocks of `block_s` seconds; each block is analysed with
// `context_s` seconds of signal on both sides (more than the median filters reach) on the global
// STFT frame grid, and consecutive blocks overlap by `crossfade_s` seconds, blended with a raised
// cosine. Inside a block the masks equal the whole-signal masks, so a seam differs from an
// unchunked separation only by float rounding (the unit test measures it).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "harmony/audio.hpp"
#include "harmony/error.hpp"

namespace harmony::analyzers::stems {

class MaskModel;

inline constexpr std::array<const char*, 4> kStemNames = {"vocals", "drums", "bass", "other"};

struct SeparationConfig {
    double block_s = 20.0;                // output block length
    double crossfade_s = 0.5;             // overlap between consecutive blocks (raised-cosine blend)
    double context_s = 3.0;               // extra signal analysed on each side of a block (> the filters' reach)
    double harmonic_median_s = 0.4;       // time median (harmonic estimate)
    double percussive_median_hz = 250.0;  // frequency median (percussive estimate)
    double vocal_median_s = 1.5;          // long time median: the stationary accompaniment
    double bass_cutoff_hz = 200.0;        // bass low-pass corner
    double vocal_low_hz = 180.0, vocal_high_hz = 8000.0;
    /// The learned separator's masks instead of the classical ones (nullptr: the classical baseline).
    const MaskModel* model = nullptr;
    /// With a model: take only its vocal mask, and split the rest with the classical masks.
    bool model_vocals_only = false;
};

/// Stem samples for frames [start_frame, start_frame + frames): one interleaved buffer per stem
/// (kStemNames order), with the input's channel count. Called in order, blocks contiguous.
using StemSink = std::function<Result<void>(std::int64_t start_frame, const std::array<std::vector<float>, 4>& stems,
                                            std::size_t frames)>;

/// STFT size for a sample rate: about 93 ms (4096 at 44.1/48 kHz, 8192 at 96 kHz), a power of two.
int stft_size_for(int rate_hz);

/// Per-stem mask statistics over the frames centred in the output: sum of m·|X|² and of m²·|X|²
/// (X the mix's STFT, m the stem's soft mask); their ratio is the stem's mask confidence.
struct SeparationStats {
    std::array<double, 4> mask_energy{}, mask2_energy{};
    double quality(std::size_t stem) const {
        return mask_energy[stem] > 0.0 ? mask2_energy[stem] / mask_energy[stem] : 0.0;
    }
};

/// Separates `mix` (any rate, 1 or more channels) block by block into the sink. `progress` (may be
/// empty) gets the fraction done. Fails only when the sink fails or on cancellation.
Result<void> separate(const AudioBuffer& mix, const SeparationConfig& cfg, const StemSink& sink,
                      const std::function<void(double)>& progress = {}, std::stop_token stop = {},
                      SeparationStats* stats = nullptr);

}  // namespace harmony::analyzers::stems
