// Octave resolution of the tempo analyzer: which of the salience peak's relatives (x1/2, x2, x3/2, ...)
// is the beat. Each candidate has kOctaveFeatures features (analyze.cpp); a gradient-boosted tree
// ensemble scores it from its own features and their differences to its x2, x1/2, x3/2 and x2/3
// relatives. Trained by tools/train_rhythm/fit_octave_gbdt.py, tables in octave_gbdt.inc.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

namespace harmony::rhythm::detail {

inline constexpr size_t kOctaveFeatures = 63;
inline constexpr double kOctaveContextRatios[] = {2.0, 0.5, 1.5, 2.0 / 3.0};
inline constexpr size_t kOctaveModelInputs =
    kOctaveFeatures * (1 + std::size(kOctaveContextRatios)) + std::size(kOctaveContextRatios);
/// Features the trees do not see (zero in the input):
/// - log2(bpm/100), its square and cube, the octaves below 60 BPM (15, 16, 57, 58): POP909's tempo
///   distribution (ballads sped up at most 1.8x) is no prior for other music; with it the trees read
///   125 BPM techno and 200 BPM drums at half tempo. The linear model's weak prior is added instead.
/// - the broadband, low and mid/high autocorrelation at 4 and 8 beats (25, 26, 35, 36, 45, 46): the
///   corpus loops its drum grooves and bass patterns bar by bar, so a repeat at exactly 4 beats is an
///   artifact of the renderer (real music repeats in 2- and 4-bar patterns too).
inline constexpr size_t kOctaveHiddenFeatures[] = {15, 16, 57, 58, 25, 26, 35, 36, 45, 46};
/// Candidates outside this range are never training candidates, so they are not used as context.
inline constexpr double kOctaveContextMinBpm = 50.0;
inline constexpr double kOctaveContextMaxBpm = 220.0;

using OctaveFeatures = std::array<double, kOctaveFeatures>;

/// Raw score (log-odds that the candidate is the beat) of one model input.
double octave_gbdt_score(const double* input);

/// The model input of candidate i: its features, then per context ratio the related candidate's
/// features minus its own (zeros when there is none) and a 0/1 presence flag.
std::vector<double> octave_model_input(const std::vector<double>& bpm, const std::vector<OctaveFeatures>& x, size_t i);

/// Scores of all candidates (same order).
std::vector<double> octave_scores(const std::vector<double>& bpm, const std::vector<OctaveFeatures>& x);

/// The model's own check: a training input whose score was computed at training time.
const double* octave_check_input();
double octave_check_score();

}  // namespace harmony::rhythm::detail
