// Golden regression of the tempo and beats analyzers on real recordings from ../shared/data. A test
// skips only when its clip is absent; with the clip present, an engine error fails it. Every bound
// states its principle next to it (a metric's tolerance, a peer's score, the metric's granularity),
// never "a little under today's value".
#include <gtest/gtest.h>

#include <algorithm>
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

std::string clip_path(const std::string& rel) {
    return test::shared_data_dir() + "/" + rel;
}

Result<SongMap> analyze(const std::string& rel) {
    Engine engine;
    AnalysisRequest req;
    req.only = {"tempo", "beats"};
    return engine.analyze_file(clip_path(rel), req);
}

// Skips when the clip is absent; fails (never skips) when it is present and the engine failed.
#define ANALYZE_CLIP(var, rel)                                                                                    \
    if (!std::filesystem::exists(clip_path(rel))) GTEST_SKIP() << "../shared/data not available (" << rel << ")"; \
    const auto var##_result = analyze(rel);                                                                       \
    ASSERT_TRUE(var##_result.ok()) << rel << ": " << var##_result.error().message;                                \
    const SongMap* var = &var##_result.value()

// Tempo bound for every clip: the benchmark's "Acc1 1 %" tolerance (mir_eval.tempo.detection with
// tol 0.01), the stricter of its two tempo scores. Every label here is more precise than that.
constexpr double kTempoTolerance = 0.01;

/// Reference events the F-measure counts (those at or after 5 s).
double scored(const std::vector<double>& ref) {
    return static_cast<double>(std::count_if(ref.begin(), ref.end(), [](double t) { return t >= 5.0; }));
}

/// Annotation file: one "time [position]" per line; returns beats (and downbeats when positions exist).
void read_beats(const std::string& rel, std::vector<double>& beats, std::vector<double>& downbeats) {
    std::ifstream f(clip_path(rel));
    ASSERT_TRUE(f.good()) << rel << ": annotation missing beside its clip";
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

// Best peer beat F-measures on the clips, from the committed dev report (bench/results/rhythm_tracks.csv,
// commit 49bd080: qm-dsp and Essentia; aubio is lower on both).
constexpr double kBallroomBestPeerBeatF = 0.9167;
constexpr double kHainsworthBestPeerBeatF = 1.0;

}  // namespace

TEST(RhythmRealClips, BallroomWaltz) {
    ANALYZE_CLIP(s, "fulltracks/audio/ballroom_Media-105901.wav");
    ASSERT_TRUE(s->tempo && s->tempo->bpm && s->beats && s->downbeats && s->meter);
    EXPECT_NEAR(*s->tempo->bpm, 84.0, 84.0 * kTempoTolerance);  // .bpm label 84
    EXPECT_EQ(s->meter->label, "3/4");
    std::vector<double> ref, down;
    read_beats("fulltracks/annotations/ballroom_Media-105901.beats", ref, down);
    ASSERT_GE(down.size(), 4u);
    // Beats: at least the best peer's F on this clip, less one beat (1/N of F, the metric's granularity).
    EXPECT_GE(f_measure(ref, s->beats->times_s), kBallroomBestPeerBeatF - 1.0 / scored(ref));
    // Downbeats: no peer reads 3/4 (qm-dsp assumes 4 beats a bar and scores 0.19), so the bound is
    // the metric's granularity: at most one of the scored downbeats missed or extra. A wrong bar
    // phase scores near 0, the right one near the beat F.
    EXPECT_GE(f_measure(down, s->downbeats->times_s), 1.0 - 1.0 / scored(down));
}

TEST(RhythmRealClips, Hainsworth001) {
    ANALYZE_CLIP(s, "fulltracks/audio/hainsworth_001.flac");
    ASSERT_TRUE(s->tempo && s->tempo->bpm && s->beats);
    EXPECT_NEAR(*s->tempo->bpm, 100.16, 100.16 * kTempoTolerance);  // .bpm label 100.16
    std::vector<double> ref, down;
    read_beats("fulltracks/annotations/hainsworth_001.beats", ref, down);
    ASSERT_GE(ref.size(), 4u);
    // At least the best peer's F on this clip (qm-dsp and Essentia: 1.0), less one beat (1/N of F).
    EXPECT_GE(f_measure(ref, s->beats->times_s), kHainsworthBestPeerBeatF - 1.0 / scored(ref));
}

TEST(RhythmRealClips, TechnoLoopIs125) {
    ANALYZE_CLIP(s, "essentia-audio/recorded/techno_loop.mp3");
    ASSERT_TRUE(s->tempo && s->tempo->bpm);
    // Was 0.25 BPM, just over today's 0.23 BPM error; now the bench's 1 % like every other clip.
    EXPECT_NEAR(*s->tempo->bpm, 125.0, 125.0 * kTempoTolerance);
    EXPECT_TRUE(s->tempo->stable);
}

TEST(RhythmRealClips, TechnoLoopGridForDjs) {
    // Issue 20 item 4: this 64-beat loop read 124.77 BPM and its grid drifted -15..+40 ms (the
    // tracker's last beats coasted off the loop and tilted the fit). The file is 30.72 s = 64 beats
    // of 0.48 s exactly, cut on the beat, so the true beats are the multiples of 0.48 s.
    ANALYZE_CLIP(s, "essentia-audio/recorded/techno_loop.mp3");
    ASSERT_TRUE(s->tempo && s->tempo->bpm && s->beats);
    EXPECT_NEAR(*s->tempo->bpm, 125.0, 0.01);  // rekordbox's 2 decimals
    ASSERT_TRUE(s->beats->grid.constant);
    ASSERT_GE(s->beats->times_s.size(), 60u);
    for (double b : s->beats->times_s) EXPECT_NEAR(b, 0.48 * std::round(b / 0.48), 0.003) << "beat at " << b;
}

TEST(RhythmRealClips, GuitarSetComping129) {
    ANALYZE_CLIP(s, "guitarset1/audio/00_BN1-129-Eb_comp_mic.wav");
    ASSERT_TRUE(s->tempo && s->tempo->bpm);
    EXPECT_NEAR(*s->tempo->bpm, 129.0, 129.0 * kTempoTolerance);  // JAMS tempo 129
}
