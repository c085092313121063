#include "analyzers/rhythm/octave_model.hpp"

#include <cmath>

namespace harmony::rhythm::detail {

namespace {

struct OctaveGbdtNode {
    int feature;  // -1: leaf
    double threshold;
    unsigned left, right;
    double value;
};

#include "analyzers/rhythm/octave_gbdt.inc"

static_assert(std::size(kOctaveGbdtCheckInput) == kOctaveModelInputs, "octave model input size");

constexpr double kContextMatch = 0.02;  // relative tolerance of a related candidate's tempo

}  // namespace

double octave_gbdt_score(const double* input) {
    double z = kOctaveGbdtBaseline;
    for (unsigned root : kOctaveGbdtRoots) {
        unsigned i = root;
        while (kOctaveGbdtNodes[i].feature >= 0) {
            const auto& n = kOctaveGbdtNodes[i];
            i = input[n.feature] <= n.threshold ? n.left : n.right;
        }
        z += kOctaveGbdtNodes[i].value;
    }
    return z;
}

std::vector<double> octave_model_input(const std::vector<double>& bpm, const std::vector<OctaveFeatures>& x, size_t i) {
    auto seen = [](OctaveFeatures f) {
        for (size_t t : kOctaveHiddenFeatures) f[t] = 0.0;
        return f;
    };
    const OctaveFeatures own = seen(x[i]);
    std::vector<double> in(kOctaveModelInputs, 0.0);
    std::copy(own.begin(), own.end(), in.begin());
    size_t k = kOctaveFeatures;
    for (double r : kOctaveContextRatios) {
        const double want = bpm[i] * r;
        size_t j = 0;
        while (j < bpm.size() && !(bpm[j] >= kOctaveContextMinBpm && bpm[j] <= kOctaveContextMaxBpm &&
                                   std::abs(bpm[j] / want - 1.0) < kContextMatch))
            ++j;
        if (j < bpm.size()) {
            const OctaveFeatures other = seen(x[j]);
            for (size_t f = 0; f < kOctaveFeatures; ++f) in[k + f] = other[f] - own[f];
        }
        k += kOctaveFeatures;
        in[k++] = j < bpm.size() ? 1.0 : 0.0;
    }
    return in;
}

std::vector<double> octave_scores(const std::vector<double>& bpm, const std::vector<OctaveFeatures>& x) {
    std::vector<double> s(bpm.size());
    for (size_t i = 0; i < bpm.size(); ++i) s[i] = octave_gbdt_score(octave_model_input(bpm, x, i).data());
    return s;
}

const double* octave_check_input() {
    return kOctaveGbdtCheckInput;
}
double octave_check_score() {
    return kOctaveGbdtCheckScore;
}

}  // namespace harmony::rhythm::detail
