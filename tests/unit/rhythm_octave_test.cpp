// The octave model's tables and input layout (src/analyzers/rhythm/octave_model.hpp).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "analyzers/rhythm/octave_model.hpp"

namespace hd = harmony::rhythm::detail;

namespace {

hd::OctaveFeatures features(double base) {
    hd::OctaveFeatures x{};
    for (size_t f = 0; f < x.size(); ++f) x[f] = base + 0.01 * static_cast<double>(f);
    return x;
}

}  // namespace

TEST(OctaveModel, TreesReproduceTheScoreComputedAtTrainingTime) {
    // fit_octave_gbdt.py stores one training candidate with the score sklearn gave it; a wrong node
    // layout, threshold rounding or traversal rule changes it.
    EXPECT_NEAR(hd::octave_gbdt_score(hd::octave_check_input()), hd::octave_check_score(), 1e-9);
}

TEST(OctaveModel, InputHoldsOwnFeaturesThenDifferencesToEachRelative) {
    // candidates in analyzer order: peak, half, double, three-halves, two-thirds, triple
    const std::vector<double> bpm{100.0, 50.0, 200.0, 150.0, 66.667, 300.0};
    std::vector<hd::OctaveFeatures> x;
    for (size_t i = 0; i < bpm.size(); ++i) x.push_back(features(static_cast<double>(i)));
    const auto in = hd::octave_model_input(bpm, x, 0);
    ASSERT_EQ(in.size(), hd::kOctaveModelInputs);
    EXPECT_DOUBLE_EQ(in[0], 0.0);
    EXPECT_DOUBLE_EQ(in[14], 0.14);
    // the absolute tempo is hidden from the trees
    for (size_t t : hd::kOctaveHiddenFeatures) EXPECT_EQ(in[t], 0.0);
    // ratio order 2, 1/2, 3/2, 2/3: the related candidate minus this one, then a presence flag
    const double expect_diff[] = {2.0, 1.0, 3.0, 4.0};
    size_t k = hd::kOctaveFeatures;
    for (double d : expect_diff) {
        EXPECT_DOUBLE_EQ(in[k], d);
        EXPECT_DOUBLE_EQ(in[k + 14], d);
        for (size_t t : hd::kOctaveHiddenFeatures) EXPECT_EQ(in[k + t], 0.0);
        EXPECT_DOUBLE_EQ(in[k + hd::kOctaveFeatures], 1.0);
        k += hd::kOctaveFeatures + 1;
    }
}

TEST(OctaveModel, CandidatesOutsideTheTrainingRangeAreNoContext) {
    // 200 BPM's double (400) is absent and its half (100) is present; 300 BPM is outside 50-220, so
    // 200 BPM has no three-halves relative and the 300 BPM candidate sees no double.
    const std::vector<double> bpm{200.0, 100.0, 300.0, 133.333};
    std::vector<hd::OctaveFeatures> x;
    for (size_t i = 0; i < bpm.size(); ++i) x.push_back(features(10.0 * static_cast<double>(i)));
    const auto in = hd::octave_model_input(bpm, x, 0);
    const size_t stride = hd::kOctaveFeatures + 1;
    auto flag = [&](size_t ratio) { return in[hd::kOctaveFeatures + ratio * stride + hd::kOctaveFeatures]; };
    EXPECT_EQ(flag(0), 0.0);  // x2: 400
    EXPECT_EQ(flag(1), 1.0);  // x1/2: 100
    EXPECT_DOUBLE_EQ(in[hd::kOctaveFeatures + stride], 10.0);
    EXPECT_EQ(flag(2), 0.0);  // x3/2: 300 is outside the context range
    EXPECT_EQ(flag(3), 1.0);  // x2/3: 133.3
    for (size_t f = hd::kOctaveFeatures; f < 2 * hd::kOctaveFeatures; ++f) EXPECT_EQ(in[f], 0.0);
    const auto scores = hd::octave_scores(bpm, x);
    ASSERT_EQ(scores.size(), bpm.size());
    for (double s : scores) EXPECT_TRUE(std::isfinite(s));
}
