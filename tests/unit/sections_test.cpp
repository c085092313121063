// Sections analyzer: synthetic songs built from repeated rendered blocks with exact boundaries
// (AABA, verse-chorus with an intro and outro of known length), a song with one section, silence
// and a 10-minute DJ mix, through the whole engine (beats -> sections).
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "analyzers/sections/structure.hpp"
#include "dsp/synth.hpp"
#include "harmony/engine.hpp"

using namespace harmony;
namespace synth = harmony::dsp::synth;

namespace {

constexpr int kRate = 22050;

/// One kind of musical material: a 4-chord progression (one chord per bar, repeated), a melody
/// figure and a timbre. Different materials differ in harmony, melody and sound.
struct Material {
    int roots[4];
    int melody[4];
    int harmonics;
    float level;
};

/// Renders `bars` bars of `m` from t0 at `bpm` (4/4) with a drum kit, so the beat grid is clear.
void render_block(std::vector<float>& x, double t0, int bars, const Material& m, double bpm, std::uint32_t& rng,
                  bool drums = true) {
    const double beat = 60.0 / bpm;
    for (int b = 0; b < bars; ++b) {
        const double tb = t0 + b * 4 * beat;
        const int root = m.roots[b % 4] + ((b / 4) % 2 ? 2 : 0);  // an 8-bar phrase: no 4-bar repeat inside
        for (int iv : {0, 4, 7})
            synth::add_harmonic_note(x, kRate, tb, 4 * beat * 0.95, synth::midi_to_hz(48 + root + iv), 0.08f * m.level,
                                     m.harmonics);
        synth::add_harmonic_note(x, kRate, tb, 4 * beat * 0.95, synth::midi_to_hz(36 + root), 0.12f * m.level, 3);
        for (int k = 0; k < 4; ++k) {
            const int note = 72 + root + m.melody[(k + b) % 4];
            synth::add_harmonic_note(x, kRate, tb + k * beat, beat * 0.9, synth::midi_to_hz(note), 0.1f * m.level,
                                     m.harmonics);
            if (!drums) continue;
            if (k % 2 == 0) synth::add_kick(x, kRate, tb + k * beat, 0.7f * m.level);
            if (k % 2 == 1) synth::add_snare(x, kRate, tb + k * beat, rng, 0.4f * m.level);
            synth::add_hihat(x, kRate, tb + k * beat, rng, 0.15f * m.level);
            synth::add_hihat(x, kRate, tb + (k + 0.5) * beat, rng, 0.1f * m.level);
        }
    }
}

const Material kVerse{{0, 9, 5, 7}, {0, 2, 4, 2}, 4, 0.7f};
const Material kChorus{{5, 7, 0, 0}, {7, 9, 7, 12}, 8, 1.0f};
const Material kBridge{{2, 4, 9, 11}, {5, 3, 1, 6}, 2, 0.8f};
const Material kIntro{{9, 9, 2, 2}, {11, 11, 9, 9}, 1, 0.35f};
const Material kOutro{{4, 4, 4, 4}, {0, 0, 0, 0}, 1, 0.3f};

struct Block {
    const Material* m;
    int bars;
};

std::vector<float> render_song(const std::vector<Block>& blocks, double bpm, std::vector<double>& starts) {
    const double bar = 240.0 / bpm;
    int total = 0;
    for (const auto& b : blocks) total += b.bars;
    std::vector<float> x(static_cast<size_t>((total * bar + 1.0) * kRate), 0.0f);
    std::uint32_t rng = 7;
    double t = 0.0;
    starts.clear();
    for (const auto& b : blocks) {
        starts.push_back(t);
        render_block(x, t, b.bars, *b.m, bpm, rng);
        t += b.bars * bar;
    }
    x.resize(static_cast<size_t>(t * kRate));  // ends exactly at the last block's end
    return x;
}

Sections analyse(const std::vector<float>& x, const std::string& method = "learned") {
    AnalysisRequest req;
    req.only = {"sections"};
    req.params["sections.method"] = method;
    Engine engine;
    auto song = engine.analyze_pcm(x, 1, kRate, req);
    EXPECT_TRUE(song.ok()) << (song.ok() ? "" : song.error().message);
    if (!song.ok() || !song->sections) return {};
    return *song->sections;
}

/// Every section starts where the previous ends; the first at 0, the last ends at the end.
void expect_tiling(const std::vector<Section>& v, double duration) {
    ASSERT_FALSE(v.empty());
    EXPECT_NEAR(v.front().start_s, 0.0, 1e-9);
    EXPECT_NEAR(v.back().end_s, duration, 0.01);
    for (size_t i = 1; i < v.size(); ++i) EXPECT_DOUBLE_EQ(v[i].start_s, v[i - 1].end_s);
    for (const auto& s : v) {
        EXPECT_LT(s.start_s, s.end_s);
        EXPECT_GE(s.confidence, 0.0);
        EXPECT_LE(s.confidence, 1.0);
        EXPECT_FALSE(s.label.empty());
    }
}

/// Boundaries (interior starts) of `v` matched to `truth` within `tol` seconds: (hits, estimated, true).
std::tuple<int, int, int> match(const std::vector<Section>& v, const std::vector<double>& truth, double tol) {
    std::vector<double> est;
    for (size_t i = 1; i < v.size(); ++i) est.push_back(v[i].start_s);
    std::vector<double> ref(truth.begin() + 1, truth.end());
    int hits = 0;
    std::vector<bool> used(est.size(), false);
    for (double r : ref)
        for (size_t i = 0; i < est.size(); ++i)
            if (!used[i] && std::fabs(est[i] - r) <= tol) {
                used[i] = true;
                ++hits;
                break;
            }
    return {hits, static_cast<int>(est.size()), static_cast<int>(ref.size())};
}

/// The letter of the phrase covering time t.
std::string letter_at(const std::vector<Section>& v, double t) {
    for (const auto& s : v)
        if (t >= s.start_s && t < s.end_s) return s.label;
    return "";
}
std::string function_at(const std::vector<Section>& v, double t) {
    for (const auto& s : v)
        if (t >= s.start_s && t < s.end_s) return s.function;
    return "";
}

}  // namespace

TEST(Sections, LettersAreAtoZThenDoubled) {
    EXPECT_EQ(sections::letter(0), "A");
    EXPECT_EQ(sections::letter(25), "Z");
    EXPECT_EQ(sections::letter(26), "AA");
    EXPECT_EQ(sections::letter(27), "AB");
}

TEST(Sections, AabaWithExactBoundaries) {
    // 8-bar blocks at 120 BPM: boundaries at 0, 16, 32, 48 s, the form A A B A. The learned boundary
    // model (the default) and version 1's novelty DP (method=phrases) both.
    std::vector<double> starts;
    const auto x = render_song({{&kVerse, 8}, {&kVerse, 8}, {&kBridge, 8}, {&kVerse, 8}}, 120.0, starts);
    for (const char* method : {"learned", "phrases"}) {
        SCOPED_TRACE(method);
        const auto s = analyse(x, method);
        expect_tiling(s.phrases, 64.0);
        const auto [hits, n_est, n_ref] = match(s.phrases, starts, 0.5);
        EXPECT_EQ(hits, n_ref) << "every block boundary found within 0.5 s";
        EXPECT_LE(n_est, n_ref + 1) << "at most one extra phrase boundary";
        const std::string a = letter_at(s.phrases, 4.0), b = letter_at(s.phrases, 36.0);
        EXPECT_EQ(letter_at(s.phrases, 20.0), a);
        EXPECT_EQ(letter_at(s.phrases, 52.0), a);
        EXPECT_NE(b, a);
        for (const auto& p : s.phrases) EXPECT_GT(p.bars, 0);
    }
}

TEST(Sections, VerseChorusWithIntroAndOutro) {
    // Intro 4 bars, verse 8, chorus 8, verse 8, chorus 8, outro 4 at 100 BPM (2.4 s bars).
    std::vector<double> starts;
    const auto x = render_song({{&kIntro, 4}, {&kVerse, 8}, {&kChorus, 8}, {&kVerse, 8}, {&kChorus, 8}, {&kOutro, 4}},
                               100.0, starts);
    const double dur = 40 * 2.4;
    const auto s = analyse(x);
    expect_tiling(s.phrases, dur);
    expect_tiling(s.segments, dur);
    const auto [hits, n_est, n_ref] = match(s.phrases, starts, 0.5);
    EXPECT_EQ(hits, n_ref);
    EXPECT_LE(n_est, n_ref + 2);
    EXPECT_EQ(letter_at(s.phrases, starts[1] + 1), letter_at(s.phrases, starts[3] + 1)) << "verses share a letter";
    EXPECT_EQ(letter_at(s.phrases, starts[2] + 1), letter_at(s.phrases, starts[4] + 1)) << "choruses share a letter";
    EXPECT_NE(letter_at(s.phrases, starts[1] + 1), letter_at(s.phrases, starts[2] + 1));
    EXPECT_EQ(function_at(s.phrases, 1.0), "intro");
    EXPECT_EQ(function_at(s.phrases, dur - 1.0), "outro");
    EXPECT_EQ(function_at(s.phrases, starts[2] + 1), "chorus");
    EXPECT_EQ(function_at(s.phrases, starts[4] + 1), "chorus");
    EXPECT_EQ(function_at(s.phrases, starts[1] + 1), "verse");
    // Sections are runs of phrases: never more of them than phrases, same tiling.
    EXPECT_LE(s.segments.size(), s.phrases.size());
    // The DJ phrase grids: 8, 16, 32 bars; each section start starts a phrase (the first one on the
    // first downbeat); the 32-bar starts are 16-bar starts, which are 8-bar starts.
    ASSERT_EQ(s.phrase_grid.size(), 3u);
    std::vector<std::set<int>> bars(3);
    for (size_t g = 0; g < 3; ++g) {
        const auto& grid = s.phrase_grid[g];
        EXPECT_EQ(grid.bars, 8 << g);
        for (size_t i = 0; i < grid.starts.size(); ++i) {
            bars[g].insert(grid.starts[i].bar);
            if (i > 0) {
                EXPECT_GT(grid.starts[i].bar, grid.starts[i - 1].bar);
                EXPECT_GT(grid.starts[i].time_s, grid.starts[i - 1].time_s);
            }
        }
        for (size_t k = 1; k < s.segments.size(); ++k) {
            bool found = false;
            for (const auto& p : grid.starts)
                found |= p.section == static_cast<int>(k) && std::fabs(p.time_s - s.segments[k].start_s) < 0.05;
            EXPECT_TRUE(found) << "section " << k << " starts a " << grid.bars << "-bar phrase";
        }
    }
    for (int b : bars[2]) EXPECT_TRUE(bars[1].count(b)) << b;
    for (int b : bars[1]) EXPECT_TRUE(bars[0].count(b)) << b;
    EXPECT_GE(bars[0].size(), s.segments.size());
}

TEST(Sections, OneSectionSong) {
    // The same one-bar loop for 4 bars: no structure to find.
    const Material loop{{0, 0, 0, 0}, {0, 0, 0, 0}, 4, 0.8f};
    std::vector<double> starts;
    const auto x = render_song({{&loop, 4}}, 120.0, starts);  // the 8-bar harmony shift never comes
    const auto s = analyse(x);
    expect_tiling(s.segments, 8.0);
    std::set<std::string> letters;
    for (const auto& p : s.phrases) letters.insert(p.label);
    EXPECT_EQ(letters.size(), 1u) << "one material, one letter";
    EXPECT_EQ(s.segments.size(), 1u);
}

TEST(Sections, SilenceIsOneSilentSection) {
    const std::vector<float> x(static_cast<size_t>(30 * kRate), 0.0f);
    const auto s = analyse(x);
    ASSERT_EQ(s.segments.size(), 1u);
    EXPECT_EQ(s.segments[0].function, "silence");
    EXPECT_NEAR(s.segments[0].end_s, 30.0, 0.01);
}

TEST(Sections, FooteBaselineRunsOnTheSameSong) {
    std::vector<double> starts;
    const auto x = render_song({{&kVerse, 8}, {&kChorus, 8}, {&kVerse, 8}, {&kChorus, 8}}, 120.0, starts);
    const auto s = analyse(x, "foote");
    expect_tiling(s.segments, 64.0);
}

TEST(Sections, TenMinuteDjMix) {
    // Five 2-minute tracks at different tempi and in different keys, hard cuts: the file is cut into
    // segments for beats, sections run whole-file on the merged beat grid.
    const double bpms[5] = {124.0, 128.0, 122.0, 126.0, 130.0};
    std::vector<float> x(static_cast<size_t>(600 * kRate), 0.0f);
    std::uint32_t rng = 3;
    for (int k = 0; k < 5; ++k) {
        Material m = k % 2 ? kChorus : kVerse;
        for (auto& r : m.roots) r = (r + 5 * k) % 12;
        const double bar = 240.0 / bpms[k];
        std::vector<float> track(static_cast<size_t>(120 * kRate), 0.0f);
        render_block(track, 0.0, static_cast<int>(120.0 / bar), m, bpms[k], rng);
        std::copy(track.begin(), track.end(), x.begin() + static_cast<std::ptrdiff_t>(k * 120 * kRate));
    }
    const auto s = analyse(x);
    expect_tiling(s.phrases, 600.0);
    expect_tiling(s.segments, 600.0);
    for (const auto& p : s.phrases) EXPECT_LE(p.bars, 32);
    int found = 0;
    for (int k = 1; k < 5; ++k)
        for (const auto& p : s.segments)
            if (std::fabs(p.start_s - 120.0 * k) < 2.5) {
                ++found;
                break;
            }
    EXPECT_GE(found, 3) << "track changes are section boundaries";
}

namespace {

/// Beat features without audio: 8-bar blocks of the given materials (0, 1, ...) in 4/4 at 120 BPM,
/// then `tail_bars` quiet bars of material 2. Each bar of a block has its own pitch classes (the
/// same in every block of that material) and each material its own timbre.
sections::BeatFeatures block_features(const std::vector<int>& blocks, int tail_bars) {
    sections::BeatFeatures f;
    auto add_bar = [&](int material, int bar, float level) {
        for (int beat = 0; beat < 4; ++beat) {
            f.times.push_back(0.5 * static_cast<double>(f.chroma.size()));
            f.positions.push_back(beat + 1);
            std::array<float, 12> c{};
            c[static_cast<size_t>((bar * 5 + material * 3 + beat / 2) % 12)] = 0.8f;
            c[static_cast<size_t>((bar * 7 + material * 4 + 4) % 12)] = 0.6f;
            f.chroma.push_back(c);
            std::array<float, 12> t{};
            t[static_cast<size_t>(material)] = 1.0f;
            f.timbre.push_back(t);
            f.level_db.push_back(level);
            f.flux.push_back(1.0f);
        }
    };
    for (int m : blocks)
        for (int bar = 0; bar < 8; ++bar) add_bar(m, bar, -20.0f);
    for (int bar = 0; bar < tail_bars; ++bar) add_bar(2, bar, -35.0f);
    f.times.push_back(0.5 * static_cast<double>(f.chroma.size()));
    f.tail_silence_s = 2.0;  // the file ends like a whole song
    return f;
}

}  // namespace

TEST(Sections, BarLineFeaturesPointAtTheRepeatedMaterial) {
    // The form A A B A: the repetition features of the bar lines that start and end an A must point
    // at another A (the lags the stage-2 boundary model follows) and show the repetition starting
    // there.
    const auto f = block_features({0, 0, 1, 0}, 0);
    sections::Params p;
    p.keep_features = true;
    const auto st = sections::analyze(f, p);
    ASSERT_EQ(st.bar_lines.size(), 31u);  // bar lines 1..31
    ASSERT_EQ(st.bar_whole.size(), 32u);
    auto lag_start = [&](int line) { return std::lround(st.bar_lines[static_cast<size_t>(line - 1)][39]); };
    auto lag_end = [&](int line) { return std::lround(st.bar_lines[static_cast<size_t>(line - 1)][40]); };
    // Bar line 8 starts the second A: its next 4 bars repeat bars 0.. (lag -8) or 24.. (lag +16).
    EXPECT_TRUE(lag_start(8) == -8 || lag_start(8) == 16) << lag_start(8);
    // Bar line 24 starts the last A: bars 0.. or 8.. (lags -24, -16).
    EXPECT_TRUE(lag_start(24) == -24 || lag_start(24) == -16) << lag_start(24);
    // Bar line 16 ends the second A: the 4 bars before it repeat those before 8 or 32 (-8, +16).
    EXPECT_TRUE(lag_end(16) == -8 || lag_end(16) == 16) << lag_end(16);
    // The start profile of bar line 24 (k = -3..4 around it): low before (B against A), high from it.
    const auto& v = st.bar_lines[23];
    for (int k = 0; k < 3; ++k) EXPECT_LT(v[static_cast<size_t>(23 + k)], v[static_cast<size_t>(23 + 3)]);
    for (int k = 3; k < 8; ++k) EXPECT_GT(v[static_cast<size_t>(23 + k)], 1.0f);
    // Boundaries at the block starts.
    std::set<size_t> starts;
    for (const auto& ph : st.phrases) starts.insert(ph.first_beat);
    for (size_t b : {32u, 64u, 96u}) EXPECT_TRUE(starts.count(b)) << "block start at beat " << b;
}

TEST(Sections, AOneBarFragmentAtTheEndIsNoOutro) {
    // A A B A and a quiet tail of new material before 2 s of silence: 4 bars are an outro; a single
    // bar (a fragment the file's edge cut off) is not.
    for (int tail : {4, 1}) {
        SCOPED_TRACE(tail);
        const auto st = sections::analyze(block_features({0, 0, 1, 0}, tail), sections::Params{});
        ASSERT_GE(st.phrases.size(), 2u);
        const auto& last = st.phrases.back();
        ASSERT_EQ(last.first_beat, 128u) << "the tail is a phrase of its own";
        ASSERT_EQ(last.bars, tail);
        EXPECT_EQ(last.function, tail >= 2 ? "outro" : "bridge");
    }
}
