// DJ phrase grids (8/16/32 bars counted from each section start, on the downbeats): the grid on
// hand-built section structures, its Song Map JSON round trip, and the `--cues phrasesN` cue points
// (names, hot-cue pad choice). The exported cues read back: export_dj_test.cpp (rekordbox, Traktor),
// serato_tags_test.cpp, export_mixxx_test.cpp, export_enginedj_test.cpp.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "analyzers/sections/phrase_grid.hpp"
#include "export/export_internal.hpp"
#include "export_test_maps.hpp"
#include "harmony/engine.hpp"
#include "harmony/export.hpp"
#include "serialize/song_map_json.hpp"

using namespace harmony;

namespace {

// Sections of the given bar counts back to back, bar_s seconds a bar, the first starting at 0.
std::vector<Section> sections_of(const std::vector<int>& bars, double bar_s) {
    std::vector<Section> out;
    int at = 0;
    for (size_t i = 0; i < bars.size(); ++i) {
        Section s;
        s.start_s = at * bar_s;
        s.end_s = (at + bars[i]) * bar_s;
        s.label = std::string(1, static_cast<char>('A' + i));
        s.bars = bars[i];
        out.push_back(s);
        at += bars[i];
    }
    return out;
}

std::vector<double> downbeats(int n, double first_s, double bar_s) {
    std::vector<double> d;
    for (int i = 0; i < n; ++i) d.push_back(first_s + i * bar_s);
    return d;
}

std::vector<int> bars_of(const PhraseGrid& g) {
    std::vector<int> out;
    for (const auto& p : g.starts) out.push_back(p.bar);
    return out;
}
std::vector<int> sections_idx(const PhraseGrid& g) {
    std::vector<int> out;
    for (const auto& p : g.starts) out.push_back(p.section);
    return out;
}

using Strings = std::vector<std::string>;

}  // namespace

TEST(PhraseGrid, SectionsOf24_40And6BarsCountFromEachSectionStart) {
    // 4/4 at 120 BPM: 2 s a bar; sections of 24, 40 and 6 bars start at bars 0, 24 and 64.
    const auto secs = sections_of({24, 40, 6}, 2.0);
    const auto db = downbeats(70, 0.0, 2.0);
    const auto g8 = sections::dj_phrase_grid(secs, db, 8);
    EXPECT_EQ(g8.bars, 8);
    EXPECT_EQ(bars_of(g8), (std::vector<int>{0, 8, 16, 24, 32, 40, 48, 56, 64}));
    EXPECT_EQ(sections_idx(g8), (std::vector<int>{0, 0, 0, 1, 1, 1, 1, 1, 2}));
    const auto g16 = sections::dj_phrase_grid(secs, db, 16);
    EXPECT_EQ(bars_of(g16), (std::vector<int>{0, 16, 24, 40, 56, 64}));
    EXPECT_EQ(sections_idx(g16), (std::vector<int>{0, 0, 1, 1, 1, 2}));
    const auto g32 = sections::dj_phrase_grid(secs, db, 32);
    EXPECT_EQ(bars_of(g32), (std::vector<int>{0, 24, 56, 64}));  // 24 < 32: one phrase; 40: 32 + 8
    EXPECT_EQ(sections_idx(g32), (std::vector<int>{0, 1, 1, 2}));
    for (const auto& p : g16.starts) EXPECT_DOUBLE_EQ(p.time_s, 2.0 * p.bar);  // on the downbeats

    const auto all = sections::dj_phrase_grids(secs, db);
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].bars, 8);
    EXPECT_EQ(all[1].bars, 16);
    EXPECT_EQ(all[2].bars, 32);
    EXPECT_EQ(bars_of(all[1]), bars_of(g16));
}

TEST(PhraseGrid, ThreeFourCountsBarsNotBeats) {
    // 3/4 at 120 BPM: 1.5 s a bar, first downbeat at 0.25 s; the same structure gives the same bars.
    const double bar = 1.5;
    auto secs = sections_of({24, 40, 6}, bar);
    for (auto& s : secs) {  // section starts on their downbeats (the first one at 0: before it)
        if (s.start_s > 0) s.start_s += 0.25;
        s.end_s += 0.25;
    }
    const auto db = downbeats(70, 0.25, bar);
    const auto g16 = sections::dj_phrase_grid(secs, db, 16);
    EXPECT_EQ(bars_of(g16), (std::vector<int>{0, 16, 24, 40, 56, 64}));
    for (const auto& p : g16.starts) EXPECT_DOUBLE_EQ(p.time_s, 0.25 + bar * p.bar);
    EXPECT_EQ(bars_of(sections::dj_phrase_grid(secs, db, 8)), (std::vector<int>{0, 8, 16, 24, 32, 40, 48, 56, 64}));
}

TEST(PhraseGrid, SectionStartsNearADownbeatSnapToIt) {
    // Section starts 60 ms late / early against the downbeats (within a quarter bar) still start
    // their phrase on that downbeat; a section start between downbeats starts at the next one.
    auto secs = sections_of({24, 40, 6}, 2.0);
    secs[1].start_s += 0.06;
    secs[2].start_s -= 0.06;
    const auto db = downbeats(70, 0.0, 2.0);
    EXPECT_EQ(bars_of(sections::dj_phrase_grid(secs, db, 16)), (std::vector<int>{0, 16, 24, 40, 56, 64}));
    secs[1].start_s = 48.0 + 1.0;  // mid-bar: the next downbeat (bar 25)
    secs[0].end_s = secs[1].start_s;
    EXPECT_EQ(bars_of(sections::dj_phrase_grid(secs, db, 16)), (std::vector<int>{0, 16, 25, 41, 57, 64}));
}

TEST(PhraseGrid, NoDownbeatsOrNoSectionsGiveAnEmptyGrid) {
    const auto secs = sections_of({24, 40, 6}, 2.0);
    EXPECT_TRUE(sections::dj_phrase_grid(secs, {}, 16).starts.empty());
    EXPECT_TRUE(sections::dj_phrase_grids(secs, {}).empty());
    EXPECT_TRUE(sections::dj_phrase_grid({}, downbeats(10, 0, 2), 16).starts.empty());
    EXPECT_TRUE(sections::dj_phrase_grid(secs, downbeats(10, 0, 2), 0).starts.empty());
    // Downbeats only in the first section: the later sections have no phrase.
    EXPECT_EQ(bars_of(sections::dj_phrase_grid(secs, downbeats(10, 0, 2), 8)), (std::vector<int>{0, 8}));
    // A single downbeat: one phrase.
    EXPECT_EQ(bars_of(sections::dj_phrase_grid(secs, {0.0}, 8)), (std::vector<int>{0}));

    // A map with sections but no beats nor downbeats: no grid; the cue export does not fail.
    SongMap m = test::make_phrase_test_map("/music/p.mp3");
    m.beats.reset();
    m.downbeats.reset();
    EXPECT_TRUE(sections::map_downbeats(m).empty());
    EXPECT_TRUE(exporters::cue_points(m, CueSource::kPhrases16, true).empty());
    ExportOptions o;
    o.cues = CueSource::kPhrases16;
    EXPECT_TRUE(export_song_maps({m}, ExportFormat::kRekordboxXml, o).ok());
}

TEST(PhraseGrid, MapDownbeatsFallBackToBeatPositions) {
    SongMap m = test::make_phrase_test_map("/music/p.mp3");
    const auto from_part = sections::map_downbeats(m);
    m.downbeats.reset();
    EXPECT_EQ(sections::map_downbeats(m), from_part);
    EXPECT_EQ(from_part.size(), 80u);
}

TEST(PhraseGrid, SongMapJsonRoundTripAndSchema) {
    SongMap m = test::make_phrase_test_map("/music/p.mp3");
    m.sections->phrase_grid = sections::dj_phrase_grids(m.sections->segments, sections::map_downbeats(m));
    auto text = to_json(m);
    ASSERT_TRUE(text.ok()) << text.error().message;
    const auto j = nlohmann::json::parse(*text);
    ASSERT_EQ(j["sections"]["phrase_grid"].size(), 3u);
    const auto& g16 = j["sections"]["phrase_grid"][1];
    EXPECT_EQ(g16["bars"], 16);
    // [time_s, bar, section]
    EXPECT_EQ(g16["starts"], nlohmann::json::parse("[[0.5,0,0],[16.5,8,1],[48.5,24,1],[80.5,40,1],"
                                                   "[96.5,48,2],[128.5,64,2],[144.5,72,3]]"));
    auto back = song_map_from_json(*text);
    ASSERT_TRUE(back.ok()) << back.error().message;
    ASSERT_EQ(back->sections->phrase_grid.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(back->sections->phrase_grid[i].bars, m.sections->phrase_grid[i].bars);
        EXPECT_EQ(bars_of(back->sections->phrase_grid[i]), bars_of(m.sections->phrase_grid[i]));
        EXPECT_EQ(sections_idx(back->sections->phrase_grid[i]), sections_idx(m.sections->phrase_grid[i]));
    }
    // Without downbeats there is no phrase_grid key; a broken row is refused by the schema.
    m.sections->phrase_grid.clear();
    EXPECT_FALSE(nlohmann::json::parse(to_json(m).value())["sections"].contains("phrase_grid"));
    auto bad = j;
    bad["sections"]["phrase_grid"][0]["starts"][0] = {0.5, -1, 0};
    EXPECT_FALSE(validate_song_map_json(bad.dump()).ok());
}

TEST(PhraseGridCues, ParseNames) {
    EXPECT_EQ(parse_cue_source("phrases8").value(), CueSource::kPhrases8);
    EXPECT_EQ(parse_cue_source("Phrases16").value(), CueSource::kPhrases16);
    EXPECT_EQ(parse_cue_source("phrases32").value(), CueSource::kPhrases32);
    EXPECT_EQ(parse_cue_source("phrases").value(), CueSource::kPhrases);  // the analyzer's own phrases
    EXPECT_FALSE(parse_cue_source("phrases12").ok());
}

TEST(PhraseGridCues, NamesAndPadSelection) {
    const SongMap m = test::make_phrase_test_map("/music/p.mp3");
    const auto c16 = exporters::cue_points(m, CueSource::kPhrases16, true);
    Strings names;
    for (const auto& c : c16) names.push_back(c.name);
    EXPECT_EQ(names, (Strings{"Intro A", "Verse B", "Verse B 2", "Verse B 3", "Chorus C", "Chorus C 2", "Outro D"}));
    // The stored grid and the recomputed one (maps without it) give the same cues.
    SongMap stored = m;
    stored.sections->phrase_grid = sections::dj_phrase_grids(m.sections->segments, sections::map_downbeats(m));
    stored.sections->phrase_grid[1].starts.pop_back();  // proves the stored grid is the one used
    EXPECT_EQ(exporters::cue_points(stored, CueSource::kPhrases16, true).size(), c16.size() - 1);
    // 10 cues of the 8-bar grid on 8 pads: the 4 section starts, then the earliest others.
    const auto pads = exporters::hot_cues(exporters::cue_points(m, CueSource::kPhrases8, true), 8);
    Strings pad_names;
    for (const auto& c : pads) pad_names.push_back(c.name);
    EXPECT_EQ(pad_names, (Strings{"Intro A", "Verse B", "Verse B 2", "Verse B 3", "Verse B 4", "Verse B 5", "Chorus C",
                                  "Outro D"}));
}
