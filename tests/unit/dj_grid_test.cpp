// Beat grids for DJ exports on synthetic loops with exact ground truth: a short constant-tempo
// loop must give its BPM to 0.01 and a grid within a few ms (issue 20 item 4).
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
