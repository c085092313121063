// Chord analyzer: label conversions (Harte, display, ChordPro) for every quality and root, the
// vocabularies, and the analyzer on synthetic music: triads and seventh chords in all 12 roots with
// several timbres, inversions, a change exactly on a beat, silence and drums only (N), A4 = 432 Hz.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "analyzers/chords/chord_features.hpp"
#include "analyzers/chords/chord_labels.hpp"
#include "dsp/synth.hpp"
#include "harmony/engine.hpp"
#include "harmony/export.hpp"
#include "nn/weights.hpp"

using namespace harmony;
using namespace harmony::analyzers::chords;
namespace synth = harmony::dsp::synth;

namespace {

constexpr int kRate = 22050;
constexpr double kBeat = 0.5;  // 120 bpm

enum class Timbre { kPiano, kSine, kBright };

struct Bar {
    int root;
    int quality;
    int bass_interval = 0;
};

void add_note(std::vector<float>& x, double t, double dur, double hz, float amp, Timbre timbre) {
    switch (timbre) {
        case Timbre::kPiano:
            synth::add_harmonic_note(x, kRate, t, dur, hz, amp, 6);
            break;
        case Timbre::kSine:
            synth::add_tone(x, kRate, t, dur, hz, amp);
            break;
        case Timbre::kBright:
            synth::add_harmonic_note(x, kRate, t, dur, hz, amp, 12);
            break;
    }
}

/// One chord per 4-beat bar at 120 bpm: the chord tones (voiced from C3 up), a bass note in the
/// second octave (the root, or the inversion's bass), kick on every beat and hi-hats on the
/// eighths so that the beat tracker finds the grid. Returns the audio; bars start at lead_s.
std::vector<float> render(const std::vector<Bar>& bars, Timbre timbre, double a4_hz = 440.0, bool drums = true,
                          double lead_s = 1.0) {
    std::vector<float> x;
    std::uint32_t rng = 7;
    const double bar_s = 4 * kBeat;
    for (size_t b = 0; b < bars.size(); ++b) {
        const double t = lead_s + static_cast<double>(b) * bar_s;
        const Bar& c = bars[b];
        if (c.root >= 0) {
            for (int iv : qualities()[static_cast<size_t>(c.quality)].intervals)
                add_note(x, t, bar_s, synth::midi_to_hz(48 + c.root + iv, a4_hz), 0.09f, timbre);
            add_note(x, t, bar_s, synth::midi_to_hz(36 + (c.root + c.bass_interval) % 12, a4_hz), 0.14f, timbre);
        }
        if (drums)
            for (int k = 0; k < 8; ++k) {
                if (k % 2 == 0) synth::add_kick(x, kRate, t + k * kBeat / 2, 0.5f);
                synth::add_hihat(x, kRate, t + k * kBeat / 2, rng, 0.08f);
            }
    }
    x.resize(static_cast<size_t>((lead_s + static_cast<double>(bars.size()) * bar_s + 0.5) * kRate), 0.0f);
    return x;
}

Chords analyze(const std::vector<float>& x, const std::string& vocabulary = "full") {
    AnalysisRequest req;
    req.only = {"chords"};
    req.params["chords.vocabulary"] = vocabulary;
    Engine engine;
    auto song = engine.analyze_pcm(x, 1, kRate, req);
    EXPECT_TRUE(song.ok()) << (song.ok() ? "" : song.error().message);
    if (!song.ok() || !song->chords) return {};
    return *song->chords;
}

/// The label sounding at t.
std::string label_at(const Chords& c, double t) {
    for (const auto& s : c.segments)
        if (t >= s.start_s && t < s.end_s) return s.label;
    return "?";
}

/// Fraction of the bars' middle two beats (sampled every 50 ms) where `want(bar)` is the label: the
/// chord's identity. Where the boundaries fall is ChangeExactlyOnABeat's business (the acoustic
/// window and the model's context reach half a beat into the neighbouring chords).
template <class F>
double agreement(const Chords& c, const std::vector<Bar>& bars, F want, double lead_s = 1.0) {
    int ok = 0, n = 0;
    for (size_t b = 0; b < bars.size(); ++b)
        for (double d = kBeat; d < 3 * kBeat; d += 0.05) {
            ++n;
            if (label_at(c, lead_s + static_cast<double>(b) * 4 * kBeat + d) == want(bars[b])) ++ok;
        }
    return n ? static_cast<double>(ok) / n : 0.0;
}

/// "start label, ..." of the timeline (failure messages).
std::string describe(const Chords& c) {
    std::string s;
    for (const auto& seg : c.segments) s += std::to_string(seg.start_s).substr(0, 5) + " " + seg.label + ", ";
    return s;
}

std::string harte(const Bar& b) {
    return to_harte({b.root, b.quality, b.bass_interval});
}

}  // namespace

TEST(ChordLabels, RoundTripsEveryClassAndRoot) {
    for (int root = 0; root < 12; ++root)
        for (const auto& cls : model_classes()) {
            const Chord c{root, cls.quality, cls.bass_interval};
            const auto h = parse_harte(to_harte(c));
            ASSERT_TRUE(h.ok()) << to_harte(c);
            EXPECT_EQ(h.value(), c) << to_harte(c);
            const auto d = parse_display(to_display(c));
            ASSERT_TRUE(d.ok()) << to_display(c);
            EXPECT_EQ(d.value(), c) << to_display(c);
            const auto p = parse_chordpro(to_chordpro(c));
            ASSERT_TRUE(p.ok()) << to_chordpro(c);
            EXPECT_EQ(p.value(), c) << to_chordpro(c);
        }
    for (const auto& q : qualities()) {  // every quality, including those without an inversion class
        const Chord c{9, quality_index(q.harte), 0};
        EXPECT_EQ(parse_display(to_display(c)).value(), c);
        EXPECT_EQ(parse_harte(to_harte(c)).value(), c);
    }
    EXPECT_EQ(to_harte({9, quality_index("min7"), 0}), "A:min7");
    EXPECT_EQ(to_display({9, quality_index("min7"), 0}), "Am7");
    EXPECT_EQ(to_harte({5, 0, 4}), "F:maj/3");
    EXPECT_EQ(to_display({5, 0, 4}), "F/A");
    EXPECT_EQ(to_chordpro({5, 0, 4}), "[F/A]");
    EXPECT_EQ(to_harte(Chord{}), "N");
    EXPECT_EQ(to_display(Chord{}), "N.C.");
    EXPECT_TRUE(parse_harte("N").value().is_none());
    EXPECT_EQ(parse_harte("C").value(), (Chord{0, 0, 0}));  // a bare root is major
    EXPECT_EQ(parse_harte("Db:hdim7").value(), (Chord{1, quality_index("hdim7"), 0}));
    EXPECT_EQ(parse_display("C#m7b5").value(), (Chord{1, quality_index("hdim7"), 0}));
}

TEST(ChordLabels, BadLabelsAreErrorsNotCrashes) {
    for (const char* bad : {"", "H:maj", "C:foo", "C:maj/x", "C/", ":min", "Cmaj7/Q", "[]"}) {
        EXPECT_FALSE(parse_harte(bad).ok()) << bad;
        EXPECT_FALSE(parse_chordpro(bad).ok()) << bad;
    }
}

TEST(ChordLabels, VocabulariesReduceEveryModelClass) {
    for (auto v : {Vocabulary::kMajMin, Vocabulary::kSevenths, Vocabulary::kFull}) {
        const auto n = static_cast<int>(vocabulary_classes(v).size());
        for (int k = 0; k < static_cast<int>(model_classes().size()); ++k) {
            const int r = reduce_class(v, k);
            EXPECT_GE(r, 0);
            EXPECT_LT(r, n);
        }
        EXPECT_EQ(vocabulary_from_name(vocabulary_name(v)), v);
    }
    EXPECT_GE(model_classes().size() * 12 + 1, 72u * 1 + 1);  // the extended vocabulary: 72+ chords
    EXPECT_EQ(reduce_class(Vocabulary::kMajMin, quality_index("min7")), 1);
    EXPECT_EQ(reduce_class(Vocabulary::kSevenths, quality_index("hdim7")), quality_index("min7"));
    EXPECT_FALSE(vocabulary_from_name("jazz").has_value());
}

TEST(ChordsAnalyzer, TriadsInAll12RootsAcrossTimbres) {
    for (Timbre timbre : {Timbre::kPiano, Timbre::kSine, Timbre::kBright}) {
        std::vector<Bar> bars;
        for (int r = 0; r < 12; ++r) {
            bars.push_back({(r * 7) % 12, 0});
            bars.push_back({(r * 7 + 9) % 12, 1});
        }
        const auto c = analyze(render(bars, timbre), "majmin");
        const double a = agreement(c, bars, harte);
        EXPECT_GE(a, 0.9) << "timbre " << static_cast<int>(timbre) << ": " << describe(c);
        for (const auto& s : c.segments) {
            EXPECT_GE(s.confidence, 0.0);
            EXPECT_LE(s.confidence, 1.0);
            EXPECT_FALSE(s.name.empty());
            if (s.label != "N") {
                EXPECT_FALSE(s.runners_up.empty());
            }
        }
    }
}

TEST(ChordsAnalyzer, SeventhChordsInAll12Roots) {
    std::vector<Bar> bars;
    for (int r = 0; r < 12; ++r)
        for (const char* q : {"7", "maj7", "min7"}) bars.push_back({(r * 5) % 12, quality_index(q)});
    const auto x = render(bars, Timbre::kPiano);
    // Root and third are right in every vocabulary: the sevenths timeline reduced to maj/min.
    const auto c = analyze(x, "sevenths");
    const auto majmin_of = [](const std::string& label) {
        const auto p = parse_harte(label);
        if (!p.ok() || p.value().is_none()) return label;
        return to_harte({p.value().root, reduce_class(Vocabulary::kMajMin, p.value().quality), 0});
    };
    int ok = 0, n = 0;
    for (size_t b = 0; b < bars.size(); ++b)
        for (double d = kBeat; d < 3 * kBeat; d += 0.05, ++n)
            if (majmin_of(label_at(c, 1.0 + static_cast<double>(b) * 4 * kBeat + d)) ==
                to_harte({bars[b].root, reduce_class(Vocabulary::kMajMin, bars[b].quality), 0}))
                ++ok;
    EXPECT_GE(static_cast<double>(ok) / n, 0.9) << describe(c);
    // The seventh itself: measured and recorded, not asserted (src/analyzers/chords/README.md,
    // "Known gaps": on these synthetic voicings the model prefers the triad).
    RecordProperty("sevenths_exact", std::to_string(agreement(c, bars, harte)));
    for (const auto& s : c.segments) {
        const auto p = parse_harte(s.label);
        ASSERT_TRUE(p.ok()) << s.label;
        if (!p.value().is_none()) {
            EXPECT_LT(p.value().quality, 5) << s.label;  // maj, min, 7, maj7, min7 only
        }
    }
}

TEST(ChordsAnalyzer, InversionsNameTheBass) {
    // C/E, F/A, G/B, Am/C, Dm/A, E7/D, then the same chords in root position.
    const std::vector<Bar> bars = {{0, 0, 4}, {5, 0, 4}, {7, 0, 4}, {9, 1, 3}, {2, 1, 7}, {4, 2, 10},
                                   {0, 0, 0}, {5, 0, 0}, {7, 0, 0}, {9, 1, 0}, {2, 1, 0}, {4, 2, 0}};
    const auto c = analyze(render(bars, Timbre::kPiano), "full");
    // Root-position chords carry no inversion, and their root and third are right.
    const auto majmin_of = [](const std::string& label) {
        const auto p = parse_harte(label);
        if (!p.ok() || p.value().is_none()) return label;
        return to_harte({p.value().root, reduce_class(Vocabulary::kMajMin, p.value().quality), 0});
    };
    int ok = 0, n = 0;
    for (size_t b = 6; b < bars.size(); ++b)
        for (double d = kBeat; d < 3 * kBeat; d += 0.05, ++n) {
            const auto l = label_at(c, 1.0 + static_cast<double>(b) * 4 * kBeat + d);
            const auto p = parse_harte(l);
            if (p.ok() && p.value().bass_interval == 0 &&
                majmin_of(l) == to_harte({bars[b].root, reduce_class(Vocabulary::kMajMin, bars[b].quality), 0}))
                ++ok;
        }
    EXPECT_GE(static_cast<double>(ok) / n, 0.9) << describe(c);
    // Inverted chords: measured and recorded, not asserted (README, "Known gaps").
    const std::vector<Bar> inverted(bars.begin(), bars.begin() + 6);
    RecordProperty("inversions_exact", std::to_string(agreement(c, inverted, harte)));
    // Every segment's bass field is a note name consistent with its label.
    for (const auto& s : c.segments)
        if (s.label != "N") {
            const auto p = parse_harte(s.label);
            ASSERT_TRUE(p.ok()) << s.label;
            EXPECT_EQ(s.bass, note_name(p.value().bass_pc()));
            EXPECT_EQ(s.root, note_name(p.value().root));
            EXPECT_EQ(s.name, to_display(p.value()));
        }
}

TEST(ChordsAnalyzer, ChangeExactlyOnABeat) {
    const std::vector<Bar> bars = {{0, 0}, {0, 0}, {9, 1}, {9, 1}};
    const auto c = analyze(render(bars, Timbre::kPiano), "majmin");
    const double change = 1.0 + 2 * 4 * kBeat;  // the third bar's downbeat
    bool found = false;
    for (const auto& s : c.segments)
        if (s.label == "A:min") {
            EXPECT_NEAR(s.start_s, change, 0.06);
            found = true;
            break;
        }
    EXPECT_TRUE(found);
}

TEST(ChordsAnalyzer, SegmentedLongFileMatchesTheWholeFileDecoding) {
    // Long files run in segments (memory flat in the length); the joined timeline must be the one
    // decoded over the whole file, up to the segments' cuts, and stay contiguous.
    std::vector<Bar> bars;
    for (int i = 0; i < 30; ++i) bars.push_back({(i * 7) % 12, (i / 3) % 2});
    const auto x = render(bars, Timbre::kPiano);
    auto run = [&](double segment_s) {
        EngineOptions o;
        o.segment_s = segment_s;
        o.segment_overlap_s = 8.0;
        AnalysisRequest req;
        req.only = {"chords"};
        req.params["chords.vocabulary"] = "majmin";
        auto song = Engine(o).analyze_pcm(x, 1, kRate, req);
        EXPECT_TRUE(song.ok()) << (song.ok() ? "" : song.error().message);
        return song.ok() ? song.value() : SongMap{};
    };
    const SongMap whole = run(0.0);
    const SongMap seg = run(20.0);
    ASSERT_TRUE(whole.chords && seg.chords && seg.tempo);
    EXPECT_NE(seg.tempo->decision.find("segments"), std::string::npos) << seg.tempo->decision;
    const auto& w = *whole.chords;
    const auto& s = *seg.chords;
    ASSERT_FALSE(s.segments.empty());
    EXPECT_DOUBLE_EQ(s.segments.front().start_s, 0.0);
    EXPECT_NEAR(s.segments.back().end_s, w.segments.back().end_s, 0.3);
    for (size_t i = 1; i < s.segments.size(); ++i) {
        EXPECT_DOUBLE_EQ(s.segments[i].start_s, s.segments[i - 1].end_s);
        EXPECT_NE(s.segments[i].label, s.segments[i - 1].label);
    }
    int same = 0, n = 0;
    for (double t = 0.0; t < w.segments.back().end_s; t += 0.05, ++n)
        if (label_at(w, t) == label_at(s, t)) ++same;
    EXPECT_GE(static_cast<double>(same) / n, 0.97) << describe(s);
    EXPECT_GE(agreement(s, bars, harte), agreement(w, bars, harte) - 0.02) << describe(s);
    EXPECT_GE(agreement(s, bars, harte), 0.9) << describe(s);
}

TEST(ChordsAnalyzer, SilenceAndDrumsOnlyAreNoChord) {
    const std::vector<float> silence(static_cast<size_t>(10 * kRate), 0.0f);
    const auto s = analyze(silence);
    ASSERT_FALSE(s.segments.empty());
    for (const auto& seg : s.segments) EXPECT_EQ(seg.label, "N");
    const std::vector<Bar> none(6, Bar{-1, 0});
    const auto d = analyze(render(none, Timbre::kPiano, 440.0, true));
    EXPECT_GE(agreement(d, none, [](const Bar&) { return std::string("N"); }), 0.9);
}

TEST(ChordsAnalyzer, DetunedTrackA432) {
    std::vector<Bar> bars;
    for (int r = 0; r < 12; ++r) bars.push_back({r, r % 2});
    const auto c = analyze(render(bars, Timbre::kPiano, 432.0), "majmin");
    EXPECT_GE(agreement(c, bars, harte), 0.9) << describe(c);
}

TEST(ChordsAnalyzer, BadParametersAreUsageErrors) {
    const std::vector<float> x(static_cast<size_t>(2 * kRate), 0.0f);
    Engine engine;
    for (const auto& [k, v] : std::map<std::string, std::string>{{"chords.vocabulary", "jazz"},
                                                                 {"chords.reference_hz", "300"},
                                                                 {"chords.model", "/nonexistent/model.hnn"}}) {
        AnalysisRequest req;
        req.only = {"chords"};
        req.params[k] = v;
        auto song = engine.analyze_pcm(x, 1, kRate, req);
        EXPECT_FALSE(song.ok()) << k << "=" << v;
    }
}

TEST(ChordsAnalyzer, ChordProLeadSheetHasBarsAndNames) {
    const std::vector<Bar> bars = {{0, 0}, {9, 1}, {5, 0}, {7, 2}};
    AnalysisRequest req;
    req.only = {"chords"};
    Engine engine;
    auto song = engine.analyze_pcm(render(bars, Timbre::kPiano), 1, kRate, req);
    ASSERT_TRUE(song.ok());
    auto cho = export_song_maps({*song}, ExportFormat::kChordPro);
    ASSERT_TRUE(cho.ok()) << cho.error().message;
    EXPECT_NE(cho->find("{start_of_grid}"), std::string::npos);
    EXPECT_NE(cho->find("| "), std::string::npos);
    EXPECT_NE(cho->find(" C"), std::string::npos) << *cho;
    EXPECT_NE(cho->find("Am"), std::string::npos) << *cho;
    auto lab = export_song_maps({*song}, ExportFormat::kMirexChords);
    ASSERT_TRUE(lab.ok());
    EXPECT_NE(lab->find("A:min"), std::string::npos);
}

namespace {

// A chord model file with zero weights: fc1 [h1, in], fc2 [h2, h1] (left out when !with_fc2),
// fc3 [classes + 1, h2], the class prior.
std::vector<std::byte> chord_model_bytes(std::int64_t in, std::int64_t h1, std::int64_t h2, bool with_fc2 = true) {
    const auto nc = static_cast<std::int64_t>(model_classes().size());
    std::vector<std::pair<std::string, nn::Tensor>> t = {{"fc1.weight", nn::Tensor({h1, in})},
                                                         {"fc1.bias", nn::Tensor({h1})},
                                                         {"fc3.weight", nn::Tensor({nc + 1, h2})},
                                                         {"fc3.bias", nn::Tensor({nc + 1})},
                                                         {"prior.log", nn::Tensor({nc + 1})}};
    if (with_fc2) {
        t.emplace_back("fc2.weight", nn::Tensor({h2, h1}));
        t.emplace_back("fc2.bias", nn::Tensor({h2}));
    }
    return nn::encode_weight_file("chords", 1, "{}", t);
}

}  // namespace

TEST(ChordNet, ContextAndWidthsComeFromTheWeightShapes) {
    auto w = nn::WeightFile::from_memory(chord_model_bytes(7 * kUnitDims, 8, 5));
    ASSERT_TRUE(w.ok()) << w.error().message;
    auto net = ChordNet::load(*w);
    ASSERT_TRUE(net.ok()) << net.error().message;
    EXPECT_EQ(net->context(), 3);
    UnitFeatures f;
    f.units.assign(10, {});
    f.silent.assign(10, false);
    std::vector<float> out;
    net->log_posteriors(f, 2, 9, 0.0, out);
    const auto per_unit = static_cast<size_t>(12 * net->n_classes() + 1);
    ASSERT_EQ(out.size(), 7 * per_unit);
    // Zero weights: every chord and N equally likely.
    for (float v : out) EXPECT_NEAR(v, -std::log(static_cast<double>(per_unit)), 1e-4);
}

TEST(ChordNet, ShapesThatDescribeNoChordModelAreRefused) {
    struct Case {
        std::int64_t in;
        bool with_fc2;
        const char* message;
    };
    for (const Case& c : {Case{2 * kUnitDims, true, "do not describe a chord model"},      // an even window
                          Case{5 * kUnitDims + 1, true, "do not describe a chord model"},  // not whole units
                          Case{(2 * kMaxContext + 3) * kUnitDims, true, "do not describe a chord model"},  // too wide
                          Case{5 * kUnitDims, false, "needs 2-d tensors"}}) {
        SCOPED_TRACE(c.in);
        auto w = nn::WeightFile::from_memory(chord_model_bytes(c.in, 8, 5, c.with_fc2));
        ASSERT_TRUE(w.ok()) << w.error().message;
        auto net = ChordNet::load(*w);
        ASSERT_FALSE(net.ok());
        EXPECT_EQ(error_code_name(net.error().code), "model_invalid");
        EXPECT_NE(net.error().message.find(c.message), std::string::npos) << net.error().message;
    }
}
