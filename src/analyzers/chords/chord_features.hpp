// The chord analyzer's acoustic front end and model: a tuned treble and bass chroma (the shared
// harmonic Chroma feature at a 93 ms hop), pooled over half-beat units of the beat grid and
// normalised per track; a root-equivariant network scores every (root, class) pair and N per unit.
// Shared by the analyzer and the training-data dumper (tools/train_chords/dump_features.cpp), so
// the network sees exactly the features it was trained on.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <vector>

#include "features/chroma.hpp"
#include "harmony/error.hpp"
#include "nn/layers.hpp"

namespace harmony::analyzers::chords {

inline constexpr int kUnitDims = 26;    // treble 12, bass 12, treble and bass log-energy
inline constexpr int kMaxContext = 16;  // most units each side of the one being scored a model may read

/// The chroma configuration the analyzer plans (a 2048-sample hop at 22.05 kHz).
features::Chroma::Config chroma_config();

/// Half-beat unit boundaries from beat times over [0, duration]: each beat interval is halved;
/// the stretches before the first and after the last beat are cut at the median half-beat period.
/// Without beats (fewer than 2) a fixed grid of `fallback_s`.
std::vector<double> unit_boundaries(const std::vector<double>& beats, double duration_s, double fallback_s = 0.25);

/// Per-unit features (kUnitDims each) from the chroma frames, tuned by `cents`. `silent` marks
/// units with (almost) no tonal energy in absolute terms.
struct UnitFeatures {
    std::vector<std::array<float, kUnitDims>> units;
    std::vector<bool> silent;
};
UnitFeatures unit_features(const features::Chroma& chroma, double cents, const std::vector<double>& bounds);

/// The acoustic model. Per unit and root r: the context window rotated so that r is pitch class 0
/// goes through an MLP giving one score per model class and an N score; N's logit is the mean of
/// the 12 N scores. Output: per unit, log-probabilities over 12 * classes + 1 (N last). The context
/// (units each side) and the hidden width are read from the weights' shapes (fc1: [hidden,
/// (2 * context + 1) * kUnitDims]), so a wider model needs no code change.
class ChordNet {
public:
    static Result<ChordNet> load(const nn::WeightFile& w);
    /// Log-posteriors, 12 * n_classes + 1 per unit, root-major (index = root * n_classes + class).
    /// prior_correction a: each class's posterior is divided by its training frequency^a and
    /// renormalised (0 = the network's posteriors; 1 = likelihoods with a flat prior).
    /// Units [begin, end) only (their context windows still read the neighbouring units of f):
    /// (end - begin) rows, row-major, into `out`. Memory is proportional to end - begin, so a long
    /// track is scored in fixed-size batches.
    void log_posteriors(const UnitFeatures& f, std::size_t begin, std::size_t end, double prior_correction,
                        std::vector<float>& out) const;
    int n_classes() const { return n_classes_; }
    int context() const { return context_; }

private:
    nn::Linear fc1_, fc2_, fc3_;
    std::vector<float> log_prior_;  // per class, N last (the training frequencies)
    int n_classes_ = 0;
    int context_ = 0;
};

/// The shipped model (embedded weights), loaded once; its hash identifies it.
Result<std::shared_ptr<const ChordNet>> shipped_model();
const std::string& shipped_model_hash();

}  // namespace harmony::analyzers::chords
