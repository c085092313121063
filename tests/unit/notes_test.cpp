// Note analyzer: synthetic lines with exact notes (sine, sawtooth), vibrato and scoops staying one
// note, a bass line under chords, silence and drums only giving no notes, the Song Map / JAMS
// round trip, and the MIDI export read back by an independent parser (Python mido).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <numbers>
#include <string>
#include <tuple>
#include <vector>

#include <unistd.h>

#include "dsp/synth.hpp"
#include "harmony/engine.hpp"
#include "harmony/export.hpp"

using namespace harmony;
namespace synth = harmony::dsp::synth;

namespace {

constexpr int kRate = 22050;

struct Ref {
    double onset, offset;
    int midi;
};

/// A harmonic tone whose pitch follows midi_at(t) (seconds from the note's start), `partials`
/// partials with 1/k amplitudes (1 = a sine; many = a sawtooth), 10 ms fades.
void add_line_note(std::vector<float>& x, double t0, double dur, const std::function<double(double)>& midi_at,
                   float amp, int partials) {
    const auto n0 = static_cast<size_t>(t0 * kRate);
    const auto n = static_cast<size_t>(dur * kRate);
    if (x.size() < n0 + n + 1) x.resize(n0 + n + 1, 0.0f);
    double phase = 0.0;
    for (size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / kRate;
        const double f = synth::midi_to_hz(midi_at(t));
        phase += 2.0 * std::numbers::pi * f / kRate;
        const double env = std::min({1.0, t / 0.01, (dur - t) / 0.01});
        double s = 0.0;
        for (int k = 1; k <= partials && k * f < kRate / 2.0; ++k) s += std::sin(k * phase) / k;
        x[n0 + i] += static_cast<float>(amp * env * s);
    }
}

/// The classical method unless `method` says otherwise (the learned model has its own tests below).
Result<SongMap> analyze(const std::vector<float>& x, std::vector<std::string> only = {"notes"},
                        const std::string& method = "classical") {
    AnalysisRequest req;
    req.only = std::move(only);
    req.params["notes.method"] = method;
    Engine engine;
    return engine.analyze_pcm(x, 1, kRate, req);
}

std::string describe(const std::vector<Note>& notes) {
    std::string s;
    char buf[96];
    for (const auto& n : notes) {
        std::snprintf(buf, sizeof buf, "[%.3f %.3f %.0f] ", n.onset_s, n.offset_s, n.pitch_midi);
        s += buf;
    }
    return s;
}

void expect_notes(const std::vector<Note>& got, const std::vector<Ref>& want, double onset_tol = 0.05,
                  double offset_tol = 0.08) {
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

/// A melody: a C-major run, a leap, a repeated note (a re-attack after a 40 ms gap) and rests.
std::vector<Ref> melody_refs() {
    const int pitches[] = {60, 62, 64, 65, 67, 72, 72, 69, 67, 64};
    std::vector<Ref> r;
    double t = 0.5;
    for (size_t i = 0; i < std::size(pitches); ++i) {
        const double dur = (i == 5 || i == 6) ? 0.25 : 0.35;
        r.push_back({t, t + dur, pitches[i]});
        t += dur + (i == 4 ? 0.3 : 0.04);
    }
    return r;
}

std::vector<float> render(const std::vector<Ref>& refs, int partials, float amp = 0.3f) {
    std::vector<float> x;
    for (const auto& r : refs)
        add_line_note(
            x, r.onset, r.offset - r.onset, [&](double) { return static_cast<double>(r.midi); }, amp, partials);
    x.resize(x.size() + kRate / 2, 0.0f);
    return x;
}

}  // namespace

TEST(NotesAnalyzer, SineMelodyGivesTheExactNotes) {
    const auto refs = melody_refs();
    auto song = analyze(render(refs, 1));
    ASSERT_TRUE(song.ok()) << song.error().message;
    ASSERT_TRUE(song->notes.has_value());
    expect_notes(song->notes->melody, refs);
}

TEST(NotesAnalyzer, SawtoothMelodyGivesTheExactNotes) {
    const auto refs = melody_refs();
    auto song = analyze(render(refs, 20));
    ASSERT_TRUE(song.ok()) << song.error().message;
    expect_notes(song->notes->melody, refs);
}

TEST(NotesAnalyzer, VibratoStaysOneNoteAndTheCurveFollowsIt) {
    std::vector<float> x;
    // A4 held 1.5 s with +-60 cents of vibrato at 5.5 Hz.
    add_line_note(
        x, 0.4, 1.5, [](double t) { return 69.0 + 0.6 * std::sin(2.0 * std::numbers::pi * 5.5 * t); }, 0.3f, 8);
    x.resize(x.size() + kRate / 2, 0.0f);
    auto song = analyze(x);
    ASSERT_TRUE(song.ok()) << song.error().message;
    expect_notes(song->notes->melody, {{0.4, 1.9, 69}});
    // The f0 curve bends with the voice: voiced frames in the held part spread like the vibrato.
    const auto& f0 = song->notes->melody_f0;
    EXPECT_NEAR(f0.hop_s, 0.01, 1e-12);
    double s = 0.0, s2 = 0.0;
    int n = 0;
    for (size_t i = 0; i < f0.f0_hz.size(); ++i) {
        const double t = f0.start_s + static_cast<double>(i) * f0.hop_s;
        if (t < 0.6 || t > 1.7) continue;
        ASSERT_GT(f0.f0_hz[i], 0.0f) << "unvoiced at " << t;
        const double c = 1200.0 * std::log2(f0.f0_hz[i] / 440.0);
        s += c;
        s2 += c * c;
        ++n;
    }
    const double sd = std::sqrt(s2 / n - (s / n) * (s / n));
    EXPECT_GT(sd, 25.0);  // a +-60 cent sine has a standard deviation of 42 cents
    EXPECT_LT(sd, 60.0);
    EXPECT_LT(std::abs(s / n), 20.0);
}

TEST(NotesAnalyzer, ScoopAndFallStayOneNote) {
    std::vector<float> x;
    // E4 entered by a 120 ms glide up from D4 and left by a 120 ms fall of three semitones.
    add_line_note(
        x, 0.5, 1.2,
        [](double t) {
            if (t < 0.12) return 62.0 + 2.0 * t / 0.12;
            if (t > 1.08) return 64.0 - 3.0 * (t - 1.08) / 0.12;
            return 64.0;
        },
        0.3f, 8);
    x.resize(x.size() + kRate / 2, 0.0f);
    auto song = analyze(x);
    ASSERT_TRUE(song.ok()) << song.error().message;
    expect_notes(song->notes->melody, {{0.5, 1.7, 64}}, 0.08, 0.1);
}

TEST(NotesAnalyzer, BassLineUnderChords) {
    std::vector<float> x;
    const int roots[] = {40, 45, 38, 43, 40, 45};  // E2 A2 D2 G2 E2 A2, one per bar of 1 s
    const int chord[][3] = {{64, 67, 71}, {69, 72, 76}, {62, 66, 69}, {67, 71, 74}, {64, 67, 71}, {69, 72, 76}};
    std::vector<Ref> refs;
    for (size_t b = 0; b < std::size(roots); ++b) {
        const double t = 0.5 + static_cast<double>(b);
        add_line_note(
            x, t, 0.9, [&](double) { return static_cast<double>(roots[b]); }, 0.35f, 8);
        for (int p : chord[b])
            add_line_note(
                x, t, 1.0, [&](double) { return static_cast<double>(p); }, 0.12f, 6);
        refs.push_back({t, t + 0.9, roots[b]});
    }
    x.resize(x.size() + kRate / 2, 0.0f);
    auto song = analyze(x);
    ASSERT_TRUE(song.ok()) << song.error().message;
    expect_notes(song->notes->bass, refs, 0.06, 0.12);
}

TEST(NotesAnalyzer, SilenceGivesNoNotes) {
    std::vector<float> x(static_cast<size_t>(5 * kRate), 0.0f);
    for (const char* method : {"classical", "learned"}) {
        SCOPED_TRACE(method);
        auto song = analyze(x, {"notes"}, method);
        ASSERT_TRUE(song.ok()) << song.error().message;
        EXPECT_TRUE(song->notes->melody.empty()) << describe(song->notes->melody);
        EXPECT_TRUE(song->notes->bass.empty()) << describe(song->notes->bass);
        EXPECT_EQ(song->notes->confidence, 0.0);
        for (float f : song->notes->melody_f0.f0_hz) EXPECT_LE(f, 0.0f);
    }
}

TEST(NotesAnalyzer, DrumsOnlyGiveNoNotes) {
    std::vector<float> x(static_cast<size_t>(8 * kRate), 0.0f);
    std::uint32_t rng = 7;
    for (int k = 0; k < 32; ++k) {
        const double t = 0.25 + 0.25 * k;
        if (k % 4 == 0) synth::add_kick(x, kRate, t, 0.7f);
        if (k % 4 == 2) synth::add_snare(x, kRate, t, rng, 0.5f);
        synth::add_hihat(x, kRate, t, rng, 0.2f);
    }
    for (const char* method : {"classical", "learned"}) {
        SCOPED_TRACE(method);
        auto song = analyze(x, {"notes"}, method);
        ASSERT_TRUE(song.ok()) << song.error().message;
        EXPECT_TRUE(song->notes->melody.empty()) << describe(song->notes->melody);
        EXPECT_TRUE(song->notes->bass.empty()) << describe(song->notes->bass);
    }
}

TEST(NotesAnalyzer, BadParametersAreUsageErrors) {
    for (const char* p : {"notes.melody_voicing", "notes.min_note_s", "notes.onset_rise"}) {
        AnalysisRequest req;
        req.only = {"notes"};
        req.params[p] = "-1";
        Engine engine;
        std::vector<float> x(kRate, 0.0f);
        auto song = engine.analyze_pcm(x, 1, kRate, req);
        ASSERT_FALSE(song.ok()) << p;
        EXPECT_EQ(song.error().code, ErrorCode::kInvalidArgument) << p;
    }
}

TEST(NotesAnalyzer, NotInTheDefaultSet) {
    std::vector<float> x(kRate, 0.0f);
    Engine engine;
    auto song = engine.analyze_pcm(x, 1, kRate, {});
    ASSERT_TRUE(song.ok()) << song.error().message;
    EXPECT_FALSE(song->notes.has_value());
}

TEST(NotesAnalyzer, SongMapJsonAndJamsRoundTrip) {
    auto song = analyze(render(melody_refs(), 8));
    ASSERT_TRUE(song.ok()) << song.error().message;
    auto text = to_json(*song);
    ASSERT_TRUE(text.ok()) << text.error().message;  // schema-validated
    auto back = song_map_from_json(*text);
    ASSERT_TRUE(back.ok()) << back.error().message;
    ASSERT_TRUE(back->notes.has_value());
    ASSERT_EQ(back->notes->melody.size(), song->notes->melody.size());
    for (size_t i = 0; i < song->notes->melody.size(); ++i) {
        EXPECT_DOUBLE_EQ(back->notes->melody[i].onset_s, song->notes->melody[i].onset_s);
        EXPECT_DOUBLE_EQ(back->notes->melody[i].pitch_midi, song->notes->melody[i].pitch_midi);
        EXPECT_DOUBLE_EQ(back->notes->melody[i].confidence, song->notes->melody[i].confidence);
    }
    ASSERT_EQ(back->notes->melody_f0.f0_hz.size(), song->notes->melody_f0.f0_hz.size());
    for (size_t i = 0; i < song->notes->melody_f0.f0_hz.size(); ++i)
        EXPECT_NEAR(back->notes->melody_f0.f0_hz[i], song->notes->melody_f0.f0_hz[i], 0.051);

    auto jams = export_song_maps({*song}, ExportFormat::kJams);
    ASSERT_TRUE(jams.ok()) << jams.error().message;
    const auto j = nlohmann::json::parse(*jams);
    int notes = 0, contours = 0;
    for (const auto& a : j["annotations"]) {
        if (a["namespace"] == "note_midi" && a["sandbox"]["line"] == "melody") {
            ++notes;
            EXPECT_EQ(a["data"].size(), song->notes->melody.size());
        }
        if (a["namespace"] == "pitch_contour") {
            ++contours;
            ASSERT_FALSE(a["data"].empty());
            const auto& v = a["data"][0]["value"];
            EXPECT_TRUE(v.contains("frequency") && v.contains("voiced") && v.contains("index"));
        }
    }
    EXPECT_EQ(notes, 1);
    EXPECT_EQ(contours, 1);
}

namespace {

/// A map with a variable-tempo beat grid (a one-beat pickup, 3/4) and notes on beats.
SongMap midi_test_map() {
    SongMap m;
    m.audio.path = "test.wav";
    m.audio.duration_s = 12.0;
    Beats b;
    double t = 0.7;
    for (int i = 0; i < 16; ++i) {
        b.times_s.push_back(t);
        b.positions.push_back((i + 2) % 3 + 1);  // 3, 1, 2, 3, 1, ...
        t += 0.5 + 0.01 * i;                     // slowing down
    }
    m.beats = b;
    Meter meter;
    meter.numerator = 3;
    meter.denominator = 4;
    meter.label = "3/4";
    m.meter = meter;
    Notes n;
    n.melody = {
        {0.2, 0.6, 72, 90, 0.8}, {b.times_s[1], b.times_s[2], 74, 100, 0.9}, {b.times_s[5] + 0.1, 7.9, 76, 64, 0.5}};
    n.bass = {{b.times_s[1], b.times_s[4], 40, 80, 0.7}, {b.times_s[4], b.times_s[7], 45, 70, 0.7}};
    m.notes = n;
    return m;
}

std::string run(const std::string& cmd) {
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return out;
    char buf[4096];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, k);
    pclose(p);
    return out;
}

}  // namespace

TEST(MidiExport, ReadBackByMidoWithTheSameNotesAndTempoMap) {
    if (std::system("/usr/bin/python3 -c 'import mido' >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "python3-mido not installed (apt install python3-mido)";
    const SongMap m = midi_test_map();
    auto smf = export_song_maps({m}, ExportFormat::kMidi);
    ASSERT_TRUE(smf.ok()) << smf.error().message;
    const auto path =
        std::filesystem::temp_directory_path() / ("harmony-notes-test-" + std::to_string(::getpid()) + ".mid");
    std::ofstream(path, std::ios::binary) << *smf;
    const std::string script =
        "import json, sys, mido\n"
        "f = mido.MidiFile(sys.argv[1])\n"
        "out = {'type': f.type, 'ppq': f.ticks_per_beat, 'tracks': [t.name for t in f.tracks], 'notes': [], "
        "'tempos': [], 'sigs': []}\n"
        "on = {}\n"
        "now = 0.0\n"
        "for msg in f:\n"
        "    now += msg.time\n"
        "    if msg.type == 'note_on' and msg.velocity > 0: on[(msg.channel, msg.note)] = (now, msg.velocity)\n"
        "    elif msg.type in ('note_off', 'note_on'):\n"
        "        s, v = on.pop((msg.channel, msg.note)); out['notes'].append([msg.channel, msg.note, s, now, v])\n"
        "abs_tick = 0\n"
        "for msg in f.tracks[0]:\n"
        "    abs_tick += msg.time\n"
        "    if msg.type == 'set_tempo': out['tempos'].append([abs_tick, msg.tempo])\n"
        "    if msg.type == 'time_signature': out['sigs'].append([abs_tick, msg.numerator, msg.denominator])\n"
        "print(json.dumps(out))\n";
    const auto py =
        std::filesystem::temp_directory_path() / ("harmony-notes-test-" + std::to_string(::getpid()) + ".py");
    std::ofstream(py) << script;
    const std::string text = run("/usr/bin/python3 " + py.string() + " " + path.string());
    std::filesystem::remove(path);
    std::filesystem::remove(py);
    ASSERT_FALSE(text.empty());
    const auto j = nlohmann::json::parse(text);
    EXPECT_EQ(j["type"], 1);
    EXPECT_EQ(j["ppq"], 480);
    EXPECT_EQ(j["tracks"][1], "Melody");
    EXPECT_EQ(j["tracks"][2], "Bass");
    // Every note, at its time (mido's own tempo-map arithmetic), pitch, velocity and channel.
    std::vector<std::tuple<int, const Note*>> want;
    for (const auto& n : m.notes->melody) want.emplace_back(0, &n);
    for (const auto& n : m.notes->bass) want.emplace_back(1, &n);
    ASSERT_EQ(j["notes"].size(), want.size());
    for (const auto& [ch, n] : want) {
        bool found = false;
        for (const auto& g : j["notes"])
            if (g[0] == ch && g[1] == static_cast<int>(n->pitch_midi) &&
                std::abs(g[2].get<double>() - n->onset_s) < 0.002) {
                found = true;
                EXPECT_NEAR(g[3].get<double>(), n->offset_s, 0.002);
                EXPECT_EQ(g[4], static_cast<int>(n->velocity));
            }
        EXPECT_TRUE(found) << "note " << n->pitch_midi << " at " << n->onset_s;
    }
    // Tempo map: every beat is a quarter note; a one-beat pickup bar before the first downbeat.
    // The first beat (0.7 s) follows a pre-roll of round(0.7 / 0.5) = 1 beat, so beat i is at tick
    // 480 * (i + 1) and the first downbeat (beat 1) at tick 960 = 2 beats: a 2/4 pickup bar.
    const auto& beats = m.beats->times_s;
    std::map<long, long> tempo;
    for (const auto& e : j["tempos"]) tempo[e[0].get<long>()] = e[1].get<long>();
    for (size_t i = 0; i + 1 < beats.size(); ++i) {
        const long tick = 480L * static_cast<long>(i + 1);
        ASSERT_TRUE(tempo.count(tick)) << "no tempo at beat " << i;
        EXPECT_NEAR(tempo[tick], (beats[i + 1] - beats[i]) * 1e6, 1.0);
    }
    ASSERT_EQ(j["sigs"].size(), 2u);
    EXPECT_EQ(j["sigs"][0], nlohmann::json({0, 2, 4}));
    EXPECT_EQ(j["sigs"][1], nlohmann::json({960, 3, 4}));
}

TEST(MidiExport, NeedsTheNotesPartAndOneMap) {
    SongMap m;
    auto r = export_song_maps({m}, ExportFormat::kMidi);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    const SongMap n = midi_test_map();
    EXPECT_FALSE(export_song_maps({n, n}, ExportFormat::kMidi).ok());
    auto fmt = parse_export_format("midi");
    ASSERT_TRUE(fmt.ok());
    EXPECT_EQ(*fmt, ExportFormat::kMidi);
    EXPECT_EQ(export_file_extension(ExportFormat::kMidi), ".mid");
}

TEST(MidiExport, WithoutBeatsIs120BpmAndStartsWithTheHeader) {
    SongMap m = midi_test_map();
    m.beats.reset();
    auto smf = export_song_maps({m}, ExportFormat::kMidi);
    ASSERT_TRUE(smf.ok());
    ASSERT_GE(smf->size(), 14u);
    EXPECT_EQ(smf->substr(0, 4), "MThd");
    EXPECT_EQ(smf->substr(14, 4), "MTrk");
}
