// Key profiles (pitch-class weights relative to the tonic, index 0 = tonic) and the scoring
// helpers shared by the key analyzer, its tests and its training tool.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace harmony::analyzers::key {

using Pc12 = std::array<double, 12>;
/// Scores of the 24 keys: index = pitch class + 12 * minor.
using Scores24 = std::array<double, 24>;

struct KeyProfile {
    const char* name;
    const char* reference;
    Pc12 major;
    Pc12 minor;
};

/// Krumhansl-Kessler, Temperley (1999), Sha'ath (KeyFinder), EDMA and bgate (Faraldo et al.).
const std::vector<KeyProfile>& key_profiles();

/// Pearson correlation of the chroma with every rotation of the profile (Krumhansl-Schmuckler).
Scores24 correlate(const KeyProfile& p, const Pc12& chroma);

/// z-score of a 12-vector (0 when flat).
Pc12 zscore(const Pc12& v);

inline int key_index(int pc, bool minor) {
    return ((pc % 12) + 12) % 12 + (minor ? 12 : 0);
}
inline int key_pc(int index) {
    return index % 12;
}
inline bool key_minor(int index) {
    return index >= 12;
}

}  // namespace harmony::analyzers::key
