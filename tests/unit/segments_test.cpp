// Segmented analysis of long files (bounded memory): the pure merge, then the engine end to end
// with short segments on synthesised tracks whose ground truth is exact.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "dsp/synth.hpp"
#include "harmony/engine.hpp"
#include "io/wav_writer.hpp"
#include "pipeline/merge.hpp"
#include "pipeline/parts.hpp"
#include "pipeline/segments.hpp"
#include "support/test_support.hpp"

using namespace harmony;

namespace {

pipeline::SegmentResult segment(double start, double end, double keep_from, double keep_to) {
    pipeline::SegmentResult s;
    s.start_s = start;
    s.end_s = end;
    s.keep_from_s = keep_from;
    s.keep_to_s = keep_to;
    return s;
}

/// Beats every `period` seconds from `first` to `end` (file time), with bar positions of 4.
void grid(SongMap& m, double first, double end, double period, double bpm, double conf = 0.9) {
    Tempo t;
    t.bpm = bpm;
    t.confidence = conf;
    t.stable = true;
    t.alternatives = {{bpm / 2, 0.1, "half"}};
    Beats b;
    Downbeats d;
    int pos = 1;
    for (double x = first; x < end; x += period) {
        b.times_s.push_back(x);
        b.positions.push_back(pos);
        if (pos == 1) d.times_s.push_back(x);
        pos = pos % 4 + 1;
        t.curve.push_back({x, bpm});
    }
    b.grid.constant = true;
    b.grid.bpm = bpm;
    b.confidence = conf;
    m.tempo = t;
    m.beats = b;
    m.downbeats = d;
    Meter me;
    me.label = "4/4";
    me.numerator = 4;
    me.denominator = 4;
    me.confidence = conf;
    m.meter = me;
}

void key(SongMap& m, int pc, const char* label, double start, double end, double conf = 0.8) {
    Key k;
    KeyName n;
    n.pitch_class = pc;
    n.label = label;
    n.mode = "major";
    k.key = n;
    k.confidence = conf;
    k.tuning.cents = -48.0 + (pc == 0 ? 0.0 : 96.0);  // -48 and +48: the circular mean is +-50, not 0
    k.tuning.confidence = 0.5;
    k.segments.push_back({start, end, n, conf});
    m.key = k;
}

double f_measure(const std::vector<double>& est, const std::vector<double>& ref, double tol = 0.07) {
    std::vector<bool> used(ref.size(), false);
    size_t hit = 0;
    for (double e : est)
        for (size_t i = 0; i < ref.size(); ++i)
            if (!used[i] && std::abs(e - ref[i]) <= tol) {
                used[i] = true;
                ++hit;
                break;
            }
    if (est.empty() || ref.empty()) return 0.0;
    const double p = static_cast<double>(hit) / est.size(), r = static_cast<double>(hit) / ref.size();
    return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

}  // namespace

TEST(Segments, ShiftMovesEveryTime) {
    SongMap m;
    grid(m, 0.5, 10.0, 0.5, 120.0);
    key(m, 0, "C major", 0.0, 10.0);
    pipeline::shift_times(m, 100.0);
    EXPECT_DOUBLE_EQ(m.beats->times_s.front(), 100.5);
    EXPECT_DOUBLE_EQ(m.downbeats->times_s.front(), 100.5);
    EXPECT_DOUBLE_EQ(m.tempo->curve.front().time_s, 100.5);
    EXPECT_DOUBLE_EQ(m.key->segments.front().start_s, 100.0);
    EXPECT_DOUBLE_EQ(m.key->segments.front().end_s, 110.0);
}

TEST(Segments, ClockLabels) {
    EXPECT_EQ(pipeline::clock_label(0.0), "0:00");
    EXPECT_EQ(pipeline::clock_label(585.0), "9:45");
    EXPECT_EQ(pipeline::clock_label(36000.0), "10:00:00");
}

TEST(Segments, SameBeatSeenByTwoSegmentsIsKeptOnce) {
    // Segment A sees 0-60 s, B sees 50-110 s; the cut is at 55 s. Both track the same grid, B with
    // a 20 ms offset, so around the cut a beat appears twice unless the merge drops it.
    std::vector<pipeline::SegmentResult> segs{segment(0, 60, 0, 55.01), segment(50, 110, 55.01, 111)};
    grid(segs[0].map, 0.5, 60.0, 0.5, 120.0);
    grid(segs[1].map, 50.52, 110.0, 0.5, 120.0);
    SongMap out;
    pipeline::merge_segments(segs, 60, 10, out);
    ASSERT_TRUE(out.beats && out.tempo && out.tempo->bpm);
    const auto& t = out.beats->times_s;
    ASSERT_EQ(t.size(), out.beats->positions.size());
    for (size_t i = 1; i < t.size(); ++i) EXPECT_GT(t[i] - t[i - 1], 0.4) << "at " << t[i];
    EXPECT_NEAR(*out.tempo->bpm, 120.0, 1e-9);
    EXPECT_TRUE(out.tempo->stable);
    EXPECT_NE(out.tempo->decision.find("2 segments"), std::string::npos) << out.tempo->decision;
    EXPECT_EQ(out.meter->label, "4/4");
    // The 20 ms phase jump breaks a single straight line only within tolerance: still one grid.
    EXPECT_TRUE(out.beats->grid.constant);
    EXPECT_NEAR(out.beats->grid.bpm, 120.0, 0.05);
    // Every segment is listed in the breakdown.
    size_t listed = 0;
    for (const auto& e : out.tempo->estimators) listed += e.name.rfind("segment ", 0) == 0 ? 1 : 0;
    EXPECT_EQ(listed, 2u);
}

TEST(Segments, TempoChangeGivesTheDominantTempoACurveAndNoConstantGrid) {
    std::vector<pipeline::SegmentResult> segs{segment(0, 60, 0, 55), segment(50, 110, 55, 105),
                                              segment(100, 140, 105, 141)};
    grid(segs[0].map, 0.6, 60.0, 0.6, 100.0);
    grid(segs[1].map, 50.4, 110.0, 0.6, 100.0);
    grid(segs[2].map, 100.0, 140.0, 60.0 / 130.0, 130.0);
    SongMap out;
    pipeline::merge_segments(segs, 60, 10, out);
    ASSERT_TRUE(out.tempo && out.tempo->bpm);
    EXPECT_NEAR(*out.tempo->bpm, 100.0, 1e-9);  // 105 s at 100 BPM vs 36 s at 130
    EXPECT_FALSE(out.tempo->stable);
    EXPECT_FALSE(out.beats->grid.constant);
    EXPECT_NEAR(out.tempo->curve.front().bpm, 100.0, 1e-9);
    EXPECT_NEAR(out.tempo->curve.back().bpm, 130.0, 1e-9);
    EXPECT_LT(out.tempo->confidence, 0.9 * 0.8);  // a quarter of the audio disagrees
}

TEST(Segments, KeyIsTheLongestHeldAndSegmentsJoin) {
    std::vector<pipeline::SegmentResult> segs{segment(0, 60, 0, 55), segment(50, 110, 55, 105),
                                              segment(100, 140, 105, 141)};
    key(segs[0].map, 0, "C major", 0, 60);
    key(segs[1].map, 0, "C major", 50, 110);
    key(segs[2].map, 7, "G major", 100, 140);
    SongMap out;
    pipeline::merge_segments(segs, 60, 10, out);
    ASSERT_TRUE(out.key && out.key->key);
    EXPECT_EQ(out.key->key->label, "C major");
    ASSERT_EQ(out.key->segments.size(), 2u);
    EXPECT_DOUBLE_EQ(out.key->segments[0].start_s, 0.0);
    EXPECT_DOUBLE_EQ(out.key->segments[0].end_s, 105.0);
    EXPECT_EQ(out.key->segments[1].key.label, "G major");
    ASSERT_FALSE(out.key->candidates.empty());
    EXPECT_EQ(out.key->candidates.front().key.label, "G major");
    // Tuning offsets of -48 and +48 cents are 4 cents apart on the circle: the mean is near +-50.
    EXPECT_GT(std::abs(out.key->tuning.cents), 45.0);
}

TEST(Segments, MostlyKeylessFileHasNoKey) {
    std::vector<pipeline::SegmentResult> segs{segment(0, 60, 0, 55), segment(50, 110, 55, 111)};
    key(segs[0].map, 0, "C major", 0, 10);
    segs[0].keep_to_s = 10;  // 10 s keyed
    segs[1].keep_from_s = 10;
    segs[1].map.key = Key{};
    segs[1].map.key->no_key_reason = "percussive";
    SongMap out;
    pipeline::merge_segments(segs, 60, 10, out);
    ASSERT_TRUE(out.key);
    EXPECT_FALSE(out.key->key);
    EXPECT_FALSE(out.key->no_key_reason.empty());
}

class SegmentedEngine : public ::testing::Test {
protected:
    std::string write(const std::vector<float>& x, int rate) {
        const std::string path = dir_.file("long.wav");
        EXPECT_TRUE(io::write_wav16(path, x, 1, rate).ok());
        return path;
    }
    static Result<SongMap> run(const std::string& path, double segment_s) {
        EngineOptions o;
        o.segment_s = segment_s;
        o.segment_overlap_s = 6.0;
        Engine engine(o);
        return engine.analyze_file(path, {{"tempo", "beats", "key"}, {}});
    }
    test::TempDir dir_;
};

TEST_F(SegmentedEngine, SteadyTrackGivesTheSameAnswerAsTheWholeFile) {
    dsp::synth::RhythmSpec spec;
    spec.bpm = 124.0;
    spec.seconds = 100.0;
    const auto track = dsp::synth::make_rhythm_track(spec);
    const std::string path = write(track.samples, track.rate_hz);
    auto whole = run(path, 0.0);
    auto seg = run(path, 25.0);  // 100 s in 25 s segments: 4 or 5 of them
    ASSERT_TRUE(whole.ok() && seg.ok());
    ASSERT_TRUE(whole->tempo->bpm && seg->tempo->bpm);
    EXPECT_EQ(whole->tempo->decision.find("segments"), std::string::npos);
    EXPECT_NE(seg->tempo->decision.find("segments"), std::string::npos) << seg->tempo->decision;
    EXPECT_NEAR(*seg->tempo->bpm, 124.0, 0.124);
    EXPECT_NEAR(*seg->tempo->bpm, *whole->tempo->bpm, 0.1);
    const auto& b = seg->beats->times_s;
    for (size_t i = 1; i < b.size(); ++i) ASSERT_GT(b[i] - b[i - 1], 0.35) << "duplicate beat near " << b[i];
    EXPECT_GT(f_measure(b, track.beats), 0.95);
    EXPECT_GT(f_measure(seg->downbeats->times_s, track.downbeats), 0.9);
    ASSERT_TRUE(seg->meter);
    EXPECT_EQ(seg->meter->label, "4/4");
    ASSERT_TRUE(seg->key && whole->key);
    ASSERT_TRUE(seg->key->key && whole->key->key);
    EXPECT_EQ(seg->key->key->label, whole->key->key->label);
    EXPECT_GT(seg->tempo->provenance.elapsed_s, 0.0);
    EXPECT_EQ(seg->tempo->provenance.analyzer, "tempo");
    EXPECT_EQ(seg->key->provenance.analyzer, "key");
    EXPECT_TRUE(to_json(*seg).ok());  // the merged map is schema-valid
}

TEST_F(SegmentedEngine, TempoChangeAcrossSegmentsShowsInTheCurve) {
    dsp::synth::RhythmSpec a, b;
    a.bpm = 96.0;
    a.seconds = 45.0;
    b.bpm = 132.0;
    b.seconds = 45.0;
    b.seed = 2;
    auto x = dsp::synth::make_rhythm_track(a);
    const auto y = dsp::synth::make_rhythm_track(b);
    x.samples.insert(x.samples.end(), y.samples.begin(), y.samples.end());
    auto seg = run(write(x.samples, x.rate_hz), 20.0);
    ASSERT_TRUE(seg.ok());
    ASSERT_TRUE(seg->tempo && seg->tempo->bpm);
    EXPECT_FALSE(seg->tempo->stable);
    EXPECT_FALSE(seg->beats->grid.constant);
    double early = 0, late = 0;
    for (const auto& p : seg->tempo->curve) {
        if (p.time_s > 5 && p.time_s < 35) early = p.bpm;
        if (p.time_s > 55 && p.time_s < 85) late = p.bpm;
    }
    EXPECT_NEAR(early, 96.0, 2.0);
    EXPECT_NEAR(late, 132.0, 2.5);
}

TEST_F(SegmentedEngine, ShortFilesAreNeverCut) {
    dsp::synth::RhythmSpec spec;
    spec.seconds = 30.0;
    const auto track = dsp::synth::make_rhythm_track(spec);
    auto seg = run(write(track.samples, track.rate_hz), 25.0);  // 30 s < 1.5 x 25 s: one piece
    ASSERT_TRUE(seg.ok());
    EXPECT_EQ(seg->tempo->decision.find("segments"), std::string::npos);
}
