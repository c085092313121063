// Note analyzer, learned method (src/analyzers/notes/pitch_net.hpp, the shipped model): synthetic
// lines with exact notes (a sawtooth melody over a bass line), silence and drums giving no notes,
// the decoder on hand-made posteriors (a re-attack splits a held pitch, blips are dropped), and
// missing / bad / foreign weight files giving clear errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "analyzers/notes/pitch_net.hpp"
#include "harmony/engine.hpp"
#include "support/test_support.hpp"

using namespace harmony;

namespace {

constexpr int kRate = 22050;

struct Ref {
    double onset, offset;
    int midi;
};

void add_note(std::vector<float>& x, double t0, double dur, double midi, float amp, int partials) {
    test::add_sustained_note(x, kRate, t0, dur, midi, amp, partials);
}

Result<SongMap> analyze(const std::vector<float>& x, const std::map<std::string, std::string>& params = {}) {
    AnalysisRequest req;
    req.only = {"notes"};
    req.params["notes.method"] = "learned";
    for (const auto& [k, v] : params) req.params[k] = v;
    Engine engine;
    return engine.analyze_pcm(x, 1, kRate, req);
}

std::string describe(const std::vector<Note>& notes) {
    std::string s;
    char buf[96];
    for (const auto& n : notes) {
        std::snprintf(buf, sizeof buf, "[%.3f %.3f %.0f c%.2f] ", n.onset_s, n.offset_s, n.pitch_midi, n.confidence);
        s += buf;
    }
    return s;
}

void expect_notes(const std::vector<Note>& got, const std::vector<Ref>& want, double onset_tol, double offset_tol) {
    ASSERT_EQ(got.size(), want.size()) << describe(got);
    for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(got[i].pitch_midi, want[i].midi) << i << ": " << describe(got);
        EXPECT_NEAR(got[i].onset_s, want[i].onset, onset_tol) << i << ": " << describe(got);
        EXPECT_NEAR(got[i].offset_s, want[i].offset, offset_tol) << i << ": " << describe(got);
        EXPECT_GE(got[i].velocity, 1.0);
        EXPECT_LE(got[i].velocity, 127.0);
        EXPECT_GE(got[i].confidence, 0.0);
        EXPECT_LE(got[i].confidence, 1.0);
    }
}

// Hand-made decoder input: every frame certain of one class (set()), no onsets.
struct HandPosteriors {
    analyzers::notes::LinePosteriors p;
    explicit HandPosteriors(int frames) {
        using analyzers::notes::kSemis;
        p.frames = frames;
        p.logp.assign(static_cast<size_t>(frames) * (kSemis + 1), std::log(0.001f));
        p.onset.assign(static_cast<size_t>(frames) * kSemis, 0.0f);
    }
    void set(int t, int cls) {
        p.logp[static_cast<size_t>(t) * (analyzers::notes::kSemis + 1) + static_cast<size_t>(cls)] = 0.0f;
    }
};

}  // namespace

TEST(NotesLearned, SawtoothMelodyOverABassLine) {
    // A melody (steps, a leap, rests; 100 ms between notes) over a bass line of four 1-second notes.
    const int mel[] = {72, 74, 76, 77, 79, 84, 81, 79};
    const int bass[] = {36, 41, 43, 36};
    std::vector<Ref> mrefs, brefs;
    std::vector<float> x;
    double t = 0.5;
    for (size_t i = 0; i < std::size(mel); ++i) {
        const double dur = i == 4 ? 0.6 : 0.4;
        mrefs.push_back({t, t + dur, mel[i]});
        add_note(x, t, dur, mel[i], 0.25f, 20);
        t += dur + (i == 4 ? 0.3 : 0.1);
    }
    for (size_t i = 0; i < std::size(bass); ++i) {
        const double b0 = 0.5 + static_cast<double>(i);
        brefs.push_back({b0, b0 + 0.9, bass[i]});
        add_note(x, b0, 0.9, bass[i], 0.3f, 10);
    }
    x.resize(x.size() + kRate / 2, 0.0f);
    auto song = analyze(x);
    ASSERT_TRUE(song.ok()) << song.error().message;
    ASSERT_TRUE(song->notes.has_value());
    // Pitches, count and offsets exact; onsets within mir_eval's 50 ms except one: measured, the
    // second note (D5 after C5) starts 70 ms early (the gap before it is voiced with its pitch),
    // the others within 20 ms. A known weakness of the model (README, "Where it stands"), not
    // hidden: the looser bound applies to one note only.
    expect_notes(song->notes->melody, mrefs, 0.08, 0.08);
    int late_or_early = 0;
    for (size_t i = 0; i < mrefs.size(); ++i)
        late_or_early += std::abs(song->notes->melody[i].onset_s - mrefs[i].onset) > 0.05 ? 1 : 0;
    EXPECT_LE(late_or_early, 1) << describe(song->notes->melody);
    expect_notes(song->notes->bass, brefs, 0.05, 0.1);
    // The f0 curve is voiced inside the melody's notes, at their pitch.
    const auto& f0 = song->notes->melody_f0;
    for (const auto& r : mrefs) {
        const auto k = static_cast<size_t>(std::lround(((r.onset + r.offset) / 2.0 - f0.start_s) / f0.hop_s));
        ASSERT_LT(k, f0.f0_hz.size());
        ASSERT_GT(f0.f0_hz[k], 0.0f);
        EXPECT_NEAR(69.0 + 12.0 * std::log2(f0.f0_hz[k] / 440.0), r.midi, 0.3);
    }
}

TEST(NotesLearned, NetworkMatchesPyTorch) {
    // tests/data/notes/: a random PitchNet and its PyTorch outputs (tools/train_notes/train.py fixture).
    const std::string dir = std::string(HARMONY_SOURCE_DIR) + "/tests/data/notes/";
    auto w = nn::WeightFile::from_file(dir + "pitch_net_random.hnn");
    ASSERT_TRUE(w.ok()) << w.error().message;
    auto net = analyzers::notes::PitchNet::load(w.value());
    ASSERT_TRUE(net.ok()) << net.error().message;
    std::ifstream in(dir + "pitch_net_random.io.f32", std::ios::binary);
    std::vector<float> io;
    for (float v; in.read(reinterpret_cast<char*>(&v), sizeof v);) io.push_back(v);
    using analyzers::notes::kLogBins;
    using analyzers::notes::kSemis;
    ASSERT_FALSE(io.empty());
    const auto n = static_cast<size_t>(io[0]);
    ASSERT_EQ(io.size(), 1 + n * (kLogBins + 2 * (kSemis + 1) + 2 * kSemis));
    const std::span<const float> x(io.data() + 1, n * kLogBins);
    const float* want = io.data() + 1 + n * kLogBins;
    for (const std::int64_t chunk : {std::int64_t{1000}, std::int64_t{5}}) {
        const auto p = net->run(x, static_cast<std::int64_t>(n), chunk);
        const std::vector<const std::vector<float>*> got = {&p.melody.logp, &p.bass.logp, &p.melody.onset,
                                                            &p.bass.onset};
        const float* e = want;
        for (const auto* g : got) {
            for (size_t i = 0; i < g->size(); ++i)
                ASSERT_NEAR((*g)[i], e[i], 1e-4 + 1e-4 * std::abs(e[i])) << "chunk " << chunk << " index " << i;
            e += g->size();
        }
    }
}

TEST(NotesLearned, DecoderSplitsAReattackAndDropsBlips) {
    using namespace analyzers::notes;
    // 100 frames (2 s): unvoiced, MIDI 60 over frames 10-59 with an onset peak at frame 35, a
    // 2-frame blip of MIDI 64 at 70-71, unvoiced after.
    HandPosteriors h(100);
    auto& p = h.p;
    auto set = [&](int t, int cls) { h.set(t, cls); };
    for (int t = 0; t < 100; ++t) {
        if (t >= 10 && t < 60)
            set(t, 60 - kNetMinMidi);
        else if (t == 70 || t == 71)
            set(t, 64 - kNetMinMidi);
        else
            set(t, kSemis);
    }
    p.onset[10 * kSemis + (60 - kNetMinMidi)] = 0.9f;
    p.onset[34 * kSemis + (60 - kNetMinMidi)] = 0.6f;
    p.onset[35 * kSemis + (60 - kNetMinMidi)] = 0.8f;
    p.onset[36 * kSemis + (60 - kNetMinMidi)] = 0.6f;
    LineDecodeConfig cfg;
    cfg.voicing_cost = 1.0;
    cfg.onset_threshold = 0.5;
    const auto d = decode_line(p, {}, cfg);
    ASSERT_EQ(d.notes.size(), 2u) << describe(d.notes);
    EXPECT_EQ(d.notes[0].pitch_midi, 60);
    EXPECT_NEAR(d.notes[0].onset_s, 0.19, 1e-9);
    EXPECT_NEAR(d.notes[0].offset_s, 0.69, 1e-9);
    EXPECT_NEAR(d.notes[1].onset_s, 0.69, 1e-9);
    EXPECT_NEAR(d.notes[1].offset_s, 1.19, 1e-9);
    EXPECT_EQ(d.midi[20], 60.0f);  // no spectrogram: whole semitones
    EXPECT_EQ(d.midi[5], 0.0f);
    EXPECT_EQ(d.midi[70], 64.0f);  // the blip is tracked (its posteriors are certain) but too short for a note
    // A threshold above the peak keeps the held pitch one note.
    cfg.onset_threshold = 0.85;
    EXPECT_EQ(decode_line(p, {}, cfg).notes.size(), 1u);
}

TEST(NotesLearned, DecoderMovedOnsetNeverOverlapsThePreviousNote) {
    using namespace analyzers::notes;
    // MIDI 60 over frames 10-29, one unvoiced frame, MIDI 64 over 31-59 whose onset peak is at
    // frame 28 (the window smears the attack back into the previous note): the second note starts
    // at the peak and the first ends there, instead of the two overlapping.
    HandPosteriors h(80);
    auto& p = h.p;
    for (int t = 0; t < 80; ++t)
        h.set(t, t >= 10 && t < 30 ? 60 - kNetMinMidi : t >= 31 && t < 60 ? 64 - kNetMinMidi : kSemis);
    p.onset[28 * kSemis + (64 - kNetMinMidi)] = 0.9f;
    LineDecodeConfig cfg;
    const auto d = decode_line(p, {}, cfg);
    ASSERT_EQ(d.notes.size(), 2u) << describe(d.notes);
    EXPECT_EQ(d.notes[0].pitch_midi, 60);
    EXPECT_EQ(d.notes[1].pitch_midi, 64);
    EXPECT_NEAR(d.notes[1].onset_s, 0.55, 1e-9);
    EXPECT_NEAR(d.notes[0].offset_s, 0.55, 1e-9);
    EXPECT_NEAR(d.notes[0].onset_s, 0.19, 1e-9);
}

TEST(NotesLearned, MissingBadOrForeignWeightsAreClearErrors) {
    test::TempDir dir;
    std::vector<float> x(kRate, 0.0f);
    {
        auto song = analyze(x, {{"notes.model", dir.file("missing.hnn")}});
        ASSERT_FALSE(song.ok());
        EXPECT_EQ(song.error().code, ErrorCode::kFileNotFound);
        EXPECT_NE(song.error().message.find("missing.hnn"), std::string::npos) << song.error().message;
    }
    {
        test::write_file(dir.file("garbage.hnn"), std::string(100, 'x'));
        auto song = analyze(x, {{"notes.model", dir.file("garbage.hnn")}});
        ASSERT_FALSE(song.ok());
        EXPECT_EQ(song.error().code, ErrorCode::kModelInvalid) << song.error().message;
    }
    {
        // A valid weight file of another network: the first missing tensor is named.
        const std::string other = std::string(HARMONY_SOURCE_DIR) + "/tests/data/nn/conv1d.hnn";
        auto song = analyze(x, {{"notes.model", other}});
        ASSERT_FALSE(song.ok());
        EXPECT_EQ(song.error().code, ErrorCode::kModelInvalid);
        EXPECT_NE(song.error().message.find("conv1"), std::string::npos) << song.error().message;
    }
    {
        AnalysisRequest req;
        req.only = {"notes"};
        req.params["notes.method"] = "neural";
        Engine engine;
        auto song = engine.analyze_pcm(x, 1, kRate, req);
        ASSERT_FALSE(song.ok());
        EXPECT_EQ(song.error().code, ErrorCode::kInvalidArgument);
    }
}
