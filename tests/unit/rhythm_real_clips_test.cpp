// Golden regression of the tempo and beats analyzers on real recordings from ../shared/data
// (skipped when the data is absent). Tolerances leave room for small changes, not for regressions.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "harmony/engine.hpp"

#include "support/test_support.hpp"

using namespace harmony;

namespace {

std::optional<SongMap> analyze(const std::string& rel) {
    const std::string path = test::shared_data_dir() + "/" + rel;
    if (!std::filesystem::exists(path)) return std::nullopt;
    Engine engine;
    AnalysisRequest req;
    req.only = {"tempo", "beats"};
    auto r = engine.analyze_file(path, req);
    if (!r) return std::nullopt;
    return r.value();
}

/// Annotation file: one "time [position]" per line; returns beats (and downbeats when positions exist).
void read_beats(const std::string& rel, std::vector<double>& beats, std::vector<double>& downbeats) {
    std::ifstream f(test::shared_data_dir() + "/" + rel);
    std::string line;
    while (std::getline(f, line)) {
        std::istringstream ss(line);
        double t = 0.0, pos = 0.0;
        if (!(ss >> t)) continue;
        beats.push_back(t);
        if (ss >> pos && std::lround(pos) == 1) downbeats.push_back(t);
    }
}

/// MIREX beat F-measure (+-70 ms), beats before 5 s ignored.
double f_measure(std::vector<double> ref, std::vector<double> est) {
    std::erase_if(ref, [](double t) { return t < 5.0; });
    std::erase_if(est, [](double t) { return t < 5.0; });
    if (ref.empty() || est.empty()) return 0.0;
    std::vector<bool> used(est.size(), false);
    double hits = 0;
    for (double r : ref)
        for (size_t j = 0; j < est.size(); ++j)
            if (!used[j] && std::abs(est[j] - r) <= 0.07) {
                used[j] = true;
                ++hits;
                break;
            }
    const double p = hits / static_cast<double>(est.size()), rc = hits / static_cast<double>(ref.size());
    return p + rc > 0 ? 2 * p * rc / (p + rc) : 0.0;
}

}  // namespace

TEST(RhythmRealClips, BallroomWaltz) {
    const auto s = analyze("fulltracks/audio/ballroom_Media-105901.wav");
    if (!s) GTEST_SKIP() << "shared data not available";
    ASSERT_TRUE(s->tempo && s->tempo->bpm && s->beats && s->downbeats && s->meter);
    EXPECT_NEAR(*s->tempo->bpm, 84.0, 84.0 * 0.02);
    EXPECT_EQ(s->meter->label, "3/4");
    std::vector<double> ref, down;
    read_beats("fulltracks/annotations/ballroom_Media-105901.beats", ref, down);
    EXPECT_GE(f_measure(ref, s->beats->times_s), 0.93);       // 0.971 at version 1
    EXPECT_GE(f_measure(down, s->downbeats->times_s), 0.85);  // 0.957 at version 1
}

TEST(RhythmRealClips, Hainsworth001) {
    const auto s = analyze("fulltracks/audio/hainsworth_001.flac");
    if (!s) GTEST_SKIP() << "shared data not available";
    ASSERT_TRUE(s->tempo && s->tempo->bpm && s->beats);
    EXPECT_NEAR(*s->tempo->bpm, 100.16, 100.16 * 0.01);
    std::vector<double> ref, down;
    read_beats("fulltracks/annotations/hainsworth_001.beats", ref, down);
    EXPECT_GE(f_measure(ref, s->beats->times_s), 0.95);  // 0.994 at version 1
}

TEST(RhythmRealClips, TechnoLoopIs125) {
    const auto s = analyze("essentia-audio/recorded/techno_loop.mp3");
    if (!s) GTEST_SKIP() << "shared data not available";
    ASSERT_TRUE(s->tempo && s->tempo->bpm);
    EXPECT_NEAR(*s->tempo->bpm, 125.0, 0.25);
    EXPECT_TRUE(s->tempo->stable);
}

TEST(RhythmRealClips, GuitarSetComping129) {
    const auto s = analyze("guitarset1/audio/00_BN1-129-Eb_comp_mic.wav");
    if (!s) GTEST_SKIP() << "shared data not available";
    ASSERT_TRUE(s->tempo && s->tempo->bpm);
    EXPECT_NEAR(*s->tempo->bpm, 129.0, 129.0 * 0.02);
}
