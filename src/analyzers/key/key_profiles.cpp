#include "analyzers/key/key_profiles.hpp"

#include <cmath>

namespace harmony::analyzers::key {

const std::vector<KeyProfile>& key_profiles() {
    // Published tables (the same values Essentia's Key/KeyEDM algorithms and libKeyFinder use).
    static const std::vector<KeyProfile> all = {
        {"krumhansl",
         "Krumhansl & Kessler 1982 probe-tone ratings",
         {6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88},
         {6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17}},
        {"temperley",
         "Temperley 1999, 'What's key for key?'",
         {5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0},
         {5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0}},
        {"shaath",
         "Sha'ath 2011 (KeyFinder)",
         {6.6, 2.0, 3.5, 2.3, 4.6, 4.0, 2.5, 5.2, 2.4, 3.7, 2.3, 3.4},
         {6.5, 2.7, 3.5, 5.4, 2.6, 3.5, 2.5, 5.2, 4.0, 2.7, 4.3, 3.2}},
        {"edma",
         "Faraldo et al. 2016, EDM-adapted profile",
         {1.00, 0.29, 0.50, 0.40, 0.60, 0.56, 0.32, 0.80, 0.31, 0.45, 0.42, 0.39},
         {1.00, 0.31, 0.44, 0.58, 0.33, 0.49, 0.29, 0.78, 0.43, 0.29, 0.53, 0.32}},
        {"bgate",
         "Faraldo et al. 2017, binary-gated Beatport profile",
         {1.00, 0.00, 0.42, 0.00, 0.53, 0.37, 0.00, 0.77, 0.00, 0.38, 0.21, 0.30},
         {1.00, 0.00, 0.36, 0.39, 0.00, 0.38, 0.00, 0.74, 0.27, 0.00, 0.42, 0.23}},
    };
    return all;
}

Pc12 zscore(const Pc12& v) {
    double mean = 0.0;
    for (double x : v) mean += x;
    mean /= 12.0;
    double var = 0.0;
    for (double x : v) var += (x - mean) * (x - mean);
    const double sd = std::sqrt(var / 12.0);
    Pc12 z{};
    if (sd <= 1e-12) return z;
    for (size_t i = 0; i < 12; ++i) z[i] = (v[i] - mean) / sd;
    return z;
}

Scores24 correlate(const KeyProfile& p, const Pc12& chroma) {
    Scores24 out{};
    const Pc12 zc = zscore(chroma);
    const Pc12 zM = zscore(p.major);
    const Pc12 zm = zscore(p.minor);
    for (int t = 0; t < 12; ++t) {
        double sM = 0.0, sm = 0.0;
        for (int j = 0; j < 12; ++j) {
            const double c = zc[static_cast<size_t>((t + j) % 12)];
            sM += zM[static_cast<size_t>(j)] * c;
            sm += zm[static_cast<size_t>(j)] * c;
        }
        out[static_cast<size_t>(t)] = sM / 12.0;
        out[static_cast<size_t>(t + 12)] = sm / 12.0;
    }
    return out;
}

}  // namespace harmony::analyzers::key
