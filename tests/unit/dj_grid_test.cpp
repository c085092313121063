// Beat grids for DJ exports on synthetic loops and tempo steps with exact ground truth: a short
// constant-tempo loop must give its BPM to 0.01 and a grid within a few ms (issue 20 item 4); a
// tempo step must give one grid section per tempo, placed at the step (item 5).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "dsp/synth.hpp"
#include "export/grid.hpp"
#include "harmony/engine.hpp"

using namespace harmony;
namespace synth = harmony::dsp::synth;

namespace {

constexpr int kRate = 22050;

SongMap analyze(const std::vector<float>& x) {
    AnalysisRequest req;
    req.only = {"tempo", "beats"};
    Engine engine;
    auto song = engine.analyze_pcm(x, 1, kRate, req);
    EXPECT_TRUE(song.ok()) << (song.ok() ? "" : song.error().message);
    return song.ok() ? *song : SongMap{};
}

// Grid time of the beat nearest to t from the exported sections.
double grid_error(const std::vector<exporters::GridSection>& secs, double t) {
    const exporters::GridSection* s = &secs.front();
    for (const auto& g : secs)
        if (g.start_s <= t + 0.1) s = &g;
    const double p = 60.0 / s->bpm;
    const double k = std::round((t - s->start_s) / p);
    return s->start_s + k * p - t;
}

// A loop of whole bars: the file ends exactly one beat period after the last beat.
synth::RhythmTrack loop(double bpm, int beats) {
    synth::RhythmSpec s;
    s.bpm = bpm;
    s.seconds = beats * 60.0 / bpm;
    s.rate_hz = kRate;
    return synth::make_rhythm_track(s);
}

}  // namespace

TEST(DjGrid, ShortLoopsGiveExactBpmAndGrid) {
    // 32 and 64 beats (8 and 16 bars). 174 BPM only as 64 beats: 32 beats are 11 s, where the
    // octave model reads the half tempo (a different question from the precision asked here).
    const std::vector<std::pair<double, int>> cases = {{125.0, 32}, {125.0, 64}, {128.0, 32}, {128.0, 64}, {140.0, 32},
                                                       {140.0, 64}, {100.0, 32}, {100.0, 64}, {174.0, 64}, {122.5, 48}};
    for (const auto& [bpm, beats] : cases) {
        SCOPED_TRACE("bpm " + std::to_string(bpm) + ", " + std::to_string(beats) + " beats");
        const auto t = loop(bpm, beats);
        const SongMap m = analyze(t.samples);
        ASSERT_TRUE(m.tempo && m.tempo->bpm && m.beats);
        const auto secs = exporters::grid_sections(m);
        ASSERT_FALSE(secs.empty());
        double lo = 1.0, hi = -1.0;
        for (double b : t.beats) {
            lo = std::min(lo, grid_error(secs, b));
            hi = std::max(hi, grid_error(secs, b));
        }
        std::printf("loop %.2f BPM x %d beats: %.3f BPM, %zu section(s), grid error %+.1f..%+.1f ms\n", bpm, beats,
                    *m.tempo->bpm, secs.size(), lo * 1000.0, hi * 1000.0);
        // The issue asks for 0.01 BPM: the 2 decimals of rekordbox's AverageBpm.
        EXPECT_NEAR(*m.tempo->bpm, bpm, 0.01);
        EXPECT_EQ(secs.size(), 1u);
        EXPECT_TRUE(m.beats->grid.constant);
        // Drift along the loop (spread of the error) within 3 ms, a third of a 10 ms analysis frame;
        // the offset common to all beats is the onset-lag calibration (15 ms, measured on the
        // corpus's instruments; this synthetic kick peaks later), within 12 ms.
        EXPECT_LT(hi - lo, 0.003);
        EXPECT_LT(std::max(std::abs(lo), std::abs(hi)), 0.012);
    }
}

namespace {

synth::RhythmTrack step(double from, double to, double step_s, double seconds, double jitter_s = 0.0) {
    synth::RhythmSpec s;
    s.timing_jitter_s = jitter_s;
    s.bpm = from;
    s.end_bpm = to;
    s.step_s = step_s;
    s.seconds = seconds;
    s.rate_hz = kRate;
    return synth::make_rhythm_track(s);
}

}  // namespace

TEST(DjGrid, TempoStepGivesOneSectionPerTempo) {
    struct Case {
        double from, to, step_s, seconds, jitter_s;
    };
    // The 8-minute case is the (the change was placed 4 s early, the grid off by 50 ms);
    // the last two play every hit up to 6 ms early or late (humanised), which the grid must average.
    for (const Case& c : {Case{125.0, 130.0, 30.0, 60.0, 0.0}, Case{125.0, 130.0, 240.0, 480.0, 0.0},
                          Case{128.0, 122.0, 45.0, 90.0, 0.0}, Case{90.0, 100.0, 30.0, 70.0, 0.0},
                          Case{125.0, 130.0, 60.0, 120.0, 0.006}, Case{140.0, 136.0, 40.0, 90.0, 0.006}}) {
        SCOPED_TRACE(std::to_string(c.from) + " -> " + std::to_string(c.to) + " BPM at " + std::to_string(c.step_s) +
                     " s");
        const auto t = step(c.from, c.to, c.step_s, c.seconds, c.jitter_s);
        double true_step = 0.0;
        for (double b : t.beats)
            if (b >= c.step_s) {
                true_step = b;
                break;
            }
        const SongMap m = analyze(t.samples);
        ASSERT_TRUE(m.tempo && m.tempo->bpm && m.beats);
        const auto secs = exporters::grid_sections(m);
        ASSERT_FALSE(secs.empty());
        double worst = 0.0, lo = 1.0, hi = -1.0;
        for (double b : t.beats) {
            const double e = grid_error(secs, b);
            lo = std::min(lo, e);
            hi = std::max(hi, e);
            worst = std::max(worst, std::abs(e));
        }
        std::printf("step %.0f->%.0f BPM at %.2f s (%.0f s): %zu section(s):", c.from, c.to, true_step, c.seconds,
                    secs.size());
        for (const auto& g : secs) std::printf(" [%.2f s %.2f BPM]", g.start_s, g.bpm);
        std::printf("; grid error %+.1f..%+.1f ms\n", lo * 1000.0, hi * 1000.0);
        EXPECT_EQ(secs.size(), 2u);
        if (secs.size() != 2u) continue;
        EXPECT_NEAR(secs[0].bpm, c.from, 0.02);
        EXPECT_NEAR(secs[1].bpm, c.to, 0.02);
        // The change on the beat where it happens (the grid is on beats: within a quarter beat).
        EXPECT_NEAR(secs[1].start_s, true_step, 0.25 * 60.0 / c.to);
        EXPECT_LT(hi - lo, 0.006);
        EXPECT_LT(worst, 0.015);
    }
}
