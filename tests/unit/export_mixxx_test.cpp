// Mixxx library export read back with SQLite (the C API the sqlite3 shell uses) and an independent
// protocol-buffer decoder written here from Mixxx's .proto files (beats.proto, keys.proto).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "export_test_maps.hpp"
#include "harmony/export.hpp"
#include "sql_rows.hpp"
#include "support/test_support.hpp"

using namespace harmony;

namespace {

// Proto2 wire format: field number -> raw values (varints as integers, fixed64 as doubles,
// length-delimited as bytes), in order.
struct Field {
    int wire = 0;
    std::uint64_t varint = 0;
    double f64 = 0.0;
    std::string bytes;
};
std::multimap<int, Field> decode(const std::string& s) {
    std::multimap<int, Field> out;
    size_t p = 0;
    auto varint = [&]() {
        std::uint64_t v = 0;
        for (int shift = 0; p < s.size(); shift += 7) {
            const auto b = static_cast<unsigned char>(s[p++]);
            v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
            if (!(b & 0x80)) break;
        }
        return v;
    };
    while (p < s.size()) {
        const std::uint64_t key = varint();
        Field f;
        f.wire = static_cast<int>(key & 7);
        if (f.wire == 0) {
            f.varint = varint();
        } else if (f.wire == 1) {
            std::uint64_t bits = 0;
            for (int i = 0; i < 8; ++i)
                bits |= static_cast<std::uint64_t>(static_cast<unsigned char>(s[p + i])) << (8 * i);
            std::memcpy(&f.f64, &bits, 8);
            p += 8;
        } else if (f.wire == 2) {
            const auto n = static_cast<size_t>(varint());
            f.bytes = s.substr(p, n);
            p += n;
        } else {
            ADD_FAILURE() << "unexpected wire type " << f.wire;
            break;
        }
        out.emplace(static_cast<int>(key >> 3), f);
    }
    return out;
}

// The exported database bytes written to DIR/mixxxdb.sqlite; returns the path.
std::string write_mixxx_db(const test::TempDir& dir, const std::string& bytes) {
    const std::string path = dir.file("mixxxdb.sqlite");
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
}

}  // namespace

TEST(ExportMixxx, LibraryReadsBackWithSqlite) {
    SongMap a = test::make_test_map("/music/House/a.flac", 124.0, 9, true);  // A minor, constant grid
    a.audio.tags.artist = "Artist A";
    a.audio.tags.title = "Title A";
    a.key->segments = {{0.0, 30.0, core::make_key_name(9, true), 0.8}, {30.0, 60.0, core::make_key_name(4, true), 0.7}};
    SongMap b = test::make_test_map("/music/Techno/b.mp3", 124.0, 0, false, 130.0);  // C major, variable grid
    ExportOptions o;
    auto bytes = export_song_maps({a, b}, ExportFormat::kMixxxDb, o);
    ASSERT_TRUE(bytes.ok()) << bytes.error().message;
    test::TempDir dir;
    test::Sql db(write_mixxx_db(dir, *bytes));
    ASSERT_NE(db.db, nullptr);
    EXPECT_EQ(db.rows("PRAGMA integrity_check")[0][0], "ok");
    EXPECT_EQ(db.rows("SELECT value FROM settings WHERE name='mixxx.schema.version'")[0][0], "39");

    const auto lib = db.rows(
        "SELECT l.title, l.artist, l.bpm, l.key, l.key_id, l.beats_version, l.beats, l.keys_version, l.keys, "
        "t.location, t.filename, t.directory, l.samplerate, l.filetype, l.cuepoint, l.id "
        "FROM library l JOIN track_locations t ON l.location = t.id ORDER BY l.id");
    ASSERT_EQ(lib.size(), 2u);
    EXPECT_EQ(lib[0][0], "Title A");
    EXPECT_EQ(lib[0][1], "Artist A");
    EXPECT_NEAR(std::stod(lib[0][2]), 124.0, 1e-9);
    EXPECT_EQ(lib[0][3], "Am");
    EXPECT_EQ(lib[0][4], "22");  // Mixxx's ChromaticKey A_MINOR
    EXPECT_EQ(lib[1][4], "1");   // C_MAJOR
    EXPECT_EQ(lib[0][9], "/music/House/a.flac");
    EXPECT_EQ(lib[0][10], "a.flac");
    EXPECT_EQ(lib[0][11], "/music/House");
    EXPECT_EQ(lib[1][13], "mp3");
    const double rate = 44100.0;

    // BeatGrid-2.0: {1: Bpm {1: bpm}, 2: Beat {1: frame_position}}
    EXPECT_EQ(lib[0][5], "BeatGrid-2.0");
    const auto grid = decode(lib[0][6]);
    ASSERT_EQ(grid.count(1), 1u);
    ASSERT_EQ(grid.count(2), 1u);
    EXPECT_NEAR(decode(grid.find(1)->second.bytes).find(1)->second.f64, 124.0, 1e-9);
    EXPECT_NEAR(decode(grid.find(2)->second.bytes).find(1)->second.f64, 0.5 * rate, 1e-6);
    // BeatMap-1.0 for the variable grid: every beat, in frames.
    EXPECT_EQ(lib[1][5], "BeatMap-1.0");
    const auto map = decode(lib[1][6]);
    ASSERT_EQ(map.count(1), b.beats->times_s.size());
    size_t k = 0;
    for (auto it = map.lower_bound(1); it != map.upper_bound(1); ++it, ++k)
        EXPECT_NEAR(decode(it->second.bytes).find(1)->second.f64, b.beats->times_s[k] * rate, 1e-6);

    // KeyMap-1.0: {1: global key, 2: text, 3: KeyChange {1: frame, 2: key}..., 5: tuning}
    EXPECT_EQ(lib[0][7], "KeyMap-1.0");
    const auto keys = decode(lib[0][8]);
    EXPECT_EQ(keys.find(1)->second.varint, 22u);
    EXPECT_EQ(keys.find(2)->second.bytes, "Am");
    ASSERT_EQ(keys.count(3), 2u);
    auto change = keys.lower_bound(3);
    EXPECT_EQ(decode(std::next(change)->second.bytes).find(1)->second.varint, 30u * 44100u);
    EXPECT_EQ(decode(std::next(change)->second.bytes).find(2)->second.varint, 17u);  // E_MINOR
    EXPECT_EQ(decode(lib[1][8]).count(3), 0u);                                       // no key change

    // Cues: the main cue (type 2) at the first downbeat, sections on hot cues; positions in
    // interleaved stereo samples (frames x 2).
    const auto cues = db.rows("SELECT type, position, hotcue, label FROM cues WHERE track_id = " + lib[0][15] +
                              " ORDER BY type DESC, hotcue");
    ASSERT_GE(cues.size(), 2u);
    EXPECT_EQ(cues[0][0], "2");
    EXPECT_EQ(cues[0][1], std::to_string(static_cast<long long>(std::llround(0.5 * rate)) * 2));
    EXPECT_EQ(lib[0][14], cues[0][1]);
    EXPECT_EQ(cues[1][0], "1");
    EXPECT_EQ(cues[1][2], "0");
    EXPECT_FALSE(cues[1][3].empty());

    EXPECT_EQ(db.rows("SELECT count(*) FROM PlaylistTracks WHERE playlist_id = 1")[0][0], "2");
    const auto crates = db.rows("SELECT name FROM crates ORDER BY name");
    ASSERT_EQ(crates.size(), 2u);  // one per folder
    EXPECT_EQ(crates[0][0], "House");
    EXPECT_EQ(db.rows("SELECT count(*) FROM crate_tracks")[0][0], "2");
}

TEST(ExportMixxx, TheSameFileTwiceIsRefused) {
    const SongMap a = test::make_test_map("/music/a.flac", 124.0, 9, true);
    auto bytes = export_song_maps({a, a}, ExportFormat::kMixxxDb, ExportOptions{});
    ASSERT_FALSE(bytes.ok());
    EXPECT_NE(bytes.error().message.find("listed twice"), std::string::npos);
}

TEST(ExportMixxx, DjPhraseGridCuesOnTheHotCues) {
    // --cues phrases8 on a map of 8+40+24+8 bars: 10 phrase starts, hot cues 1-8 hold the 4
    // section starts and the 4 earliest other phrases, in time order.
    const SongMap m = test::make_phrase_test_map("/music/p.flac");
    ExportOptions o;
    o.cues = CueSource::kPhrases8;
    auto bytes = export_song_maps({m}, ExportFormat::kMixxxDb, o);
    ASSERT_TRUE(bytes.ok()) << bytes.error().message;
    test::TempDir dir;
    test::Sql db(write_mixxx_db(dir, *bytes));
    ASSERT_NE(db.db, nullptr);
    const auto cues = db.rows("SELECT position, hotcue, label FROM cues WHERE type = 1 ORDER BY hotcue");
    ASSERT_EQ(cues.size(), 8u);
    const std::vector<double> starts = {0.5, 16.5, 32.5, 48.5, 64.5, 80.5, 96.5, 144.5};
    const std::vector<std::string> names = {"Intro A",   "Verse B",   "Verse B 2", "Verse B 3",
                                            "Verse B 4", "Verse B 5", "Chorus C",  "Outro D"};
    for (size_t k = 0; k < 8; ++k) {
        EXPECT_EQ(cues[k][0], std::to_string(static_cast<long long>(std::llround(starts[k] * 44100.0)) * 2));
        EXPECT_EQ(cues[k][1], std::to_string(k));
        EXPECT_EQ(cues[k][2], names[k]);
    }
}
