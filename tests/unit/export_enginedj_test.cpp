// Engine DJ library export read back with SQLite and an independent decoder of Engine's
// performance-data blobs, written here from the documented layout (src/export/README.md, learned
// from libdjinterop's Engine v2 readers): qCompress framing (4-byte big-endian length + zlib),
// trackData, beatData (big-endian header, little-endian markers), quickCues, loops.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "export_test_maps.hpp"
#include "harmony/export.hpp"
#include "sql_rows.hpp"
#include "support/test_support.hpp"

using namespace harmony;

namespace {

// qUncompress: the first 4 bytes (big-endian) give the uncompressed size.
std::string unq(const std::string& blob) {
    EXPECT_GE(blob.size(), 4u);
    if (blob.size() < 4) return {};
    const std::uint32_t n = (static_cast<std::uint32_t>(static_cast<unsigned char>(blob[0])) << 24) |
                            (static_cast<std::uint32_t>(static_cast<unsigned char>(blob[1])) << 16) |
                            (static_cast<std::uint32_t>(static_cast<unsigned char>(blob[2])) << 8) |
                            static_cast<std::uint32_t>(static_cast<unsigned char>(blob[3]));
    std::string out(n, '\0');
    uLongf len = n;
    EXPECT_EQ(uncompress(reinterpret_cast<Bytef*>(out.data()), &len, reinterpret_cast<const Bytef*>(blob.data() + 4),
                         static_cast<uLong>(blob.size() - 4)),
              Z_OK);
    EXPECT_EQ(len, n);
    return out;
}

// A cursor over decoded bytes.
struct Reader {
    std::string s;
    size_t p = 0;
    std::uint64_t be(int n) {
        std::uint64_t v = 0;
        for (int i = 0; i < n; ++i) v = v << 8 | static_cast<unsigned char>(s.at(p++));
        return v;
    }
    std::uint64_t le(int n) {
        std::uint64_t v = 0;
        for (int i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(s.at(p++))) << (8 * i);
        return v;
    }
    static double f(std::uint64_t bits) {
        double d = 0;
        std::memcpy(&d, &bits, 8);
        return d;
    }
    double f64_be() { return f(be(8)); }
    double f64_le() { return f(le(8)); }
    std::int64_t i64_be() { return static_cast<std::int64_t>(be(8)); }
    std::int64_t i64_le() { return static_cast<std::int64_t>(le(8)); }
    std::int32_t i32_be() { return static_cast<std::int32_t>(static_cast<std::uint32_t>(be(4))); }
    std::int32_t i32_le() { return static_cast<std::int32_t>(static_cast<std::uint32_t>(le(4))); }
    int u8() { return static_cast<unsigned char>(s.at(p++)); }
    bool done() const { return p == s.size(); }
};

struct Marker {
    double frame;
    std::int64_t beat;
    std::int32_t beats_to_next;
};
struct BeatData {
    double rate = 0, frames = 0;
    int set = 0;
    std::vector<Marker> grid, adjusted;
};
BeatData decode_beat_data(const std::string& blob) {
    Reader r{unq(blob)};
    BeatData b;
    b.rate = r.f64_be();
    b.frames = r.f64_be();
    b.set = r.u8();
    for (auto* g : {&b.grid, &b.adjusted}) {
        const auto n = r.i64_be();
        for (std::int64_t i = 0; i < n; ++i) {
            Marker m{};
            m.frame = r.f64_le();
            m.beat = r.i64_le();
            m.beats_to_next = r.i32_le();
            r.i32_le();
            g->push_back(m);
        }
    }
    return b;
}

// Time of beat number k on a marker grid (linear between markers).
double beat_time(const std::vector<Marker>& g, std::int64_t k, double rate) {
    size_t i = 0;
    while (i + 2 < g.size() && g[i + 1].beat <= k) ++i;
    const double per = (g[i + 1].frame - g[i].frame) / static_cast<double>(g[i + 1].beat - g[i].beat);
    return (g[i].frame + per * static_cast<double>(k - g[i].beat)) / rate;
}

struct QuickCue {
    std::string label;
    double frame;
    std::uint32_t argb;
};
struct QuickCues {
    std::vector<QuickCue> cues;
    double main_adjusted = 0, main_default = 0;
    int adjusted = 0;
};
QuickCues decode_quick_cues(const std::string& blob) {
    Reader r{unq(blob)};
    QuickCues q;
    const auto n = r.i64_be();
    for (std::int64_t i = 0; i < n; ++i) {
        QuickCue c;
        const int len = r.u8();
        c.label = r.s.substr(r.p, static_cast<size_t>(len));
        r.p += static_cast<size_t>(len);
        c.frame = r.f64_be();
        c.argb = static_cast<std::uint32_t>(r.be(4));
        q.cues.push_back(c);
    }
    q.main_adjusted = r.f64_be();
    q.adjusted = r.u8();
    q.main_default = r.f64_be();
    EXPECT_TRUE(r.done());
    return q;
}

std::string write_db(const test::TempDir& dir, const std::string& bytes) {
    const std::string path = dir.file("m.db");
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
}

}  // namespace

TEST(ExportEngineDj, DatabaseAndPerformanceDataReadBack) {
    SongMap a = test::make_test_map("/music/House/a.flac", 124.0, 9, true);  // A minor, constant grid
    a.audio.tags.artist = "Artist A";
    a.audio.tags.title = "Title A";
    SongMap b = test::make_test_map("/music/Techno/b.mp3", 124.0, 6, true, 130.0);  // F# minor, 124 -> 130
    ExportOptions o;
    o.engine_library_dir = "/music/Engine Library";
    auto bytes = export_song_maps({a, b}, ExportFormat::kEngineDj, o);
    ASSERT_TRUE(bytes.ok()) << bytes.error().message;
    test::TempDir dir;
    test::Sql db(write_db(dir, *bytes));
    ASSERT_NE(db.db, nullptr);
    EXPECT_EQ(db.rows("PRAGMA integrity_check")[0][0], "ok");
    const auto info =
        db.rows("SELECT schemaVersionMajor, schemaVersionMinor, schemaVersionPatch, uuid FROM Information");
    ASSERT_EQ(info.size(), 1u);
    EXPECT_EQ(info[0][0] + "." + info[0][1] + "." + info[0][2], "2.18.0");
    EXPECT_EQ(info[0][3].size(), 36u);

    const auto t = db.rows(
        "SELECT title, artist, bpm, bpmAnalyzed, key, length, path, filename, fileType, trackData, beatData, "
        "quickCues, loops, originDatabaseUuid, originTrackId, id, isAnalyzed FROM Track ORDER BY id");
    ASSERT_EQ(t.size(), 2u);
    EXPECT_EQ(t[0][0], "Title A");
    EXPECT_EQ(t[0][1], "Artist A");
    EXPECT_EQ(t[0][2], "124");
    EXPECT_NEAR(std::stod(t[0][3]), 124.0, 1e-9);
    EXPECT_EQ(t[0][4], "1");  // Engine key 1 = A minor (0 = C, then each major key's relative minor)
    EXPECT_EQ(t[1][4], "7");  // F# minor
    EXPECT_EQ(t[0][5], "60");
    EXPECT_EQ(t[0][6], "../House/a.flac");  // relative to the Engine Library folder
    EXPECT_EQ(t[0][7], "a.flac");
    EXPECT_EQ(t[0][8], "flac");
    EXPECT_EQ(t[1][8], "mp3");
    EXPECT_EQ(t[0][13], info[0][3]);  // origin: this database, this track (Engine's trigger)
    EXPECT_EQ(t[0][14], t[0][15]);
    EXPECT_EQ(t[0][16], "1");
    // The PerformanceData view sees the same blobs.
    EXPECT_EQ(db.rows("SELECT beatData FROM PerformanceData WHERE trackId = " + t[0][15])[0][0], t[0][10]);

    const double rate = 44100.0;
    // trackData: rate (f64 BE), frames (i64 BE), key (i32 BE), 3 x average loudness (f64 BE).
    Reader td{unq(t[0][9])};
    EXPECT_EQ(td.s.size(), 44u);
    EXPECT_DOUBLE_EQ(td.f64_be(), rate);
    EXPECT_EQ(td.i64_be(), 60 * 44100);
    EXPECT_EQ(td.i32_be(), 1);

    // beatData, constant grid: two markers covering the file; beat 0 at the bar anchor (first downbeat).
    const BeatData bd = decode_beat_data(t[0][10]);
    EXPECT_DOUBLE_EQ(bd.rate, rate);
    EXPECT_DOUBLE_EQ(bd.frames, 60.0 * rate);
    EXPECT_EQ(bd.set, 1);
    ASSERT_EQ(bd.grid.size(), 2u);
    ASSERT_EQ(bd.adjusted.size(), 2u);
    EXPECT_LE(bd.grid.front().frame, 0.0);
    EXPECT_GE(bd.grid.back().frame, 60.0 * rate);
    EXPECT_EQ(bd.grid.front().beats_to_next, bd.grid.back().beat - bd.grid.front().beat);
    EXPECT_EQ(bd.grid.back().beats_to_next, 0);
    const double bpm_from_markers =
        60.0 * rate * static_cast<double>(bd.grid[1].beat - bd.grid[0].beat) / (bd.grid[1].frame - bd.grid[0].frame);
    EXPECT_NEAR(bpm_from_markers, 124.0, 1e-6);
    for (size_t i = 0; i < a.beats->times_s.size(); ++i)
        ASSERT_NEAR(beat_time(bd.grid, static_cast<std::int64_t>(i), rate), a.beats->times_s[i], 1e-4) << i;

    // Variable grid: a marker per tempo section plus the end marker; every beat within 2 ms.
    const BeatData vb = decode_beat_data(t[1][10]);
    ASSERT_GE(vb.grid.size(), 3u);
    for (size_t k = 0; k + 1 < vb.grid.size(); ++k)
        EXPECT_EQ(vb.grid[k].beats_to_next, vb.grid[k + 1].beat - vb.grid[k].beat);
    for (size_t i = 0; i < b.beats->times_s.size(); ++i)
        ASSERT_NEAR(beat_time(vb.grid, static_cast<std::int64_t>(i), rate), b.beats->times_s[i], 0.002) << i;
    const double late_bpm = 60.0 * rate * static_cast<double>(vb.grid.back().beat - vb.grid[vb.grid.size() - 2].beat) /
                            (vb.grid.back().frame - vb.grid[vb.grid.size() - 2].frame);
    EXPECT_NEAR(late_bpm, 130.0, 0.05);

    // quickCues: 8 slots, the section starts on the first three, the main cue at the bar anchor.
    const QuickCues q = decode_quick_cues(t[0][11]);
    ASSERT_EQ(q.cues.size(), 8u);
    EXPECT_EQ(q.cues[0].label, "Intro A");
    EXPECT_NEAR(q.cues[0].frame, 0.0, 1e-9);
    EXPECT_EQ(q.cues[1].label, "Chorus B");
    EXPECT_NEAR(q.cues[1].frame, 16.5 * rate, 1e-6);
    EXPECT_EQ(q.cues[2].label, "Outro C");
    EXPECT_EQ(q.cues[1].argb >> 24, 0xFFu);
    for (size_t k = 3; k < 8; ++k) {
        EXPECT_EQ(q.cues[k].frame, -1.0);
        EXPECT_TRUE(q.cues[k].label.empty());
    }
    EXPECT_NEAR(q.main_default, 0.5 * rate, 1e-6);
    EXPECT_NEAR(q.main_adjusted, 0.5 * rate, 1e-6);
    EXPECT_EQ(q.adjusted, 1);

    // loops: uncompressed, little-endian count, 8 empty slots of 23 bytes.
    Reader lp{t[0][12]};
    EXPECT_EQ(lp.i64_le(), 8);
    EXPECT_EQ(lp.s.size(), 8u + 8u * 23u);

    // Playlists: "Harmony" with both tracks as a linked list, and a playlist per folder under "Folders".
    const auto lists = db.rows("SELECT id, title, parentListId, nextListId FROM Playlist ORDER BY id");
    ASSERT_EQ(lists.size(), 4u);
    EXPECT_EQ(lists[0][1], "Harmony");
    EXPECT_EQ(lists[0][3], lists[1][0]);  // Harmony -> Folders (top level order)
    EXPECT_EQ(lists[1][1], "Folders");
    EXPECT_EQ(lists[2][2], lists[1][0]);
    EXPECT_EQ(lists[2][1], "House");
    const auto entities =
        db.rows("SELECT id, trackId, nextEntityId, databaseUuid FROM PlaylistEntity WHERE listId = " + lists[0][0] +
                " ORDER BY id");
    ASSERT_EQ(entities.size(), 2u);
    EXPECT_EQ(entities[0][1], t[0][15]);
    EXPECT_EQ(entities[0][2], entities[1][0]);
    EXPECT_EQ(entities[1][2], "0");
    EXPECT_EQ(entities[0][3], info[0][3]);
    EXPECT_EQ(db.rows("SELECT path FROM PlaylistPath WHERE id = " + lists[2][0])[0][0], "Folders;House;");
}

TEST(ExportEngineDj, BarAnchorIsBeatZeroAndCuePolicyIsRespected) {
    // Downbeats on every 4th beat from the second beat: with --downbeats trust beat 0 (a bar line
    // in Engine) is the second beat; with beat1 it is the first beat.
    SongMap m = test::make_test_map("/music/a.flac", 128.0, 0, false);
    m.downbeats->times_s.clear();
    for (size_t i = 1; i < m.beats->times_s.size(); i += 4) m.downbeats->times_s.push_back(m.beats->times_s[i]);
    for (size_t i = 0; i < m.beats->positions.size(); ++i) m.beats->positions[i] = static_cast<int>((i + 3) % 4 + 1);
    m.beats->grid.first_downbeat_s = m.beats->times_s[1];
    const double rate = 44100.0;
    for (const auto policy : {DownbeatPolicy::kTrust, DownbeatPolicy::kBeat1}) {
        ExportOptions o;
        o.downbeats = policy;
        o.cues = CueSource::kNone;
        auto bytes = export_song_maps({m}, ExportFormat::kEngineDj, o);
        ASSERT_TRUE(bytes.ok()) << bytes.error().message;
        test::TempDir dir;
        test::Sql db(write_db(dir, *bytes));
        const auto t = db.rows("SELECT beatData, quickCues, key, path FROM Track");
        ASSERT_EQ(t.size(), 1u);
        EXPECT_EQ(t[0][2], "0");              // C major
        EXPECT_EQ(t[0][3], "/music/a.flac");  // no library folder: absolute
        const BeatData bd = decode_beat_data(t[0][0]);
        const size_t anchor = policy == DownbeatPolicy::kTrust ? 1 : 0;
        EXPECT_NEAR(beat_time(bd.grid, 0, rate), m.beats->times_s[anchor], 1e-4);
        EXPECT_NEAR(beat_time(bd.grid, 4, rate), m.beats->times_s[anchor + 4], 1e-4);
        const QuickCues q = decode_quick_cues(t[0][1]);
        EXPECT_NEAR(q.main_default, m.beats->times_s[anchor] * rate, 1e-6);
        ASSERT_EQ(q.cues.size(), 8u);
        for (const auto& c : q.cues) EXPECT_EQ(c.frame, -1.0);  // --cues none: no hot cues
    }
}

TEST(ExportEngineDj, PathMapAndDrivesGiveEnginePaths) {
    const SongMap m = test::make_test_map("/home/me/Music/House/a.flac", 124.0, 9, true);
    auto path_of = [&](const ExportOptions& o) {
        auto bytes = export_song_maps({m}, ExportFormat::kEngineDj, o);
        EXPECT_TRUE(bytes.ok());
        test::TempDir dir;
        test::Sql db(write_db(dir, bytes.ok() ? *bytes : std::string()));
        return db.rows("SELECT path FROM Track")[0][0];
    };
    ExportOptions o;
    o.path_map = {{"/home/me/Music", "/Volumes/USB/Music"}};
    o.engine_library_dir = "/Volumes/USB/Engine Library";
    EXPECT_EQ(path_of(o), "../Music/House/a.flac");
    o.engine_library_dir = "/home/me/Music/Engine Library";  // mapped like the tracks
    EXPECT_EQ(path_of(o), "../House/a.flac");
    o.path_map = {{"/home/me/Music", "E:/Music"}};
    o.engine_library_dir = "/home/me/Music/Engine Library";  // -> E:/Music/Engine Library
    EXPECT_EQ(path_of(o), "../House/a.flac");
    o.engine_library_dir = "/home/me/Engine Library";  // on another drive than E:
    EXPECT_EQ(path_of(o), "E:/Music/House/a.flac");
    o.path_map = {{"/home/me/Music", "/Volumes/USB/Music"}};
    o.engine_library_dir = "/Users/me/Music/Engine Library";  // library on the system disk, tracks on a stick
    EXPECT_EQ(path_of(o), "/Volumes/USB/Music/House/a.flac");
    o.engine_library_dir = "/Volumes/Other/Engine Library";
    EXPECT_EQ(path_of(o), "/Volumes/USB/Music/House/a.flac");
    o.path_map.clear();
    o.engine_library_dir = "/home/you/Engine Library";  // same top folder: relative, as Engine does on one disk
    EXPECT_EQ(path_of(o), "../../me/Music/House/a.flac");
}

TEST(ExportEngineDj, TrackWithoutBeatsOrKeyAndDuplicates) {
    SongMap m = test::make_test_map("/music/a.flac", 124.0, 9, true);
    m.beats.reset();
    m.key.reset();
    m.tempo.reset();
    auto bytes = export_song_maps({m}, ExportFormat::kEngineDj, ExportOptions{});
    ASSERT_TRUE(bytes.ok()) << bytes.error().message;
    test::TempDir dir;
    test::Sql db(write_db(dir, *bytes));
    const auto t = db.rows("SELECT beatData, key IS NULL, bpm FROM Track");
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(decode_beat_data(t[0][0]).set, 0);
    EXPECT_TRUE(decode_beat_data(t[0][0]).grid.empty());
    EXPECT_EQ(t[0][1], "1");
    EXPECT_EQ(t[0][2], "0");

    const SongMap a = test::make_test_map("/music/a.flac", 124.0, 9, true);
    auto twice = export_song_maps({a, a}, ExportFormat::kEngineDj, ExportOptions{});
    ASSERT_FALSE(twice.ok());
    EXPECT_NE(twice.error().message.find("listed twice"), std::string::npos);
}

TEST(ExportEngineDj, FormatNamesParse) {
    for (const char* n : {"enginedj", "engine", "engine-dj", "EnginePrime"}) {
        auto f = parse_export_format(n);
        ASSERT_TRUE(f.ok()) << n;
        EXPECT_EQ(*f, ExportFormat::kEngineDj);
    }
}

TEST(ExportEngineDj, FilesEngineCannotPlayAreFlagged) {
    SongMap m = test::make_test_map("/music/a.opus", 124.0, 9, true);
    m.audio.codec = "opus";
    std::string why;
    EXPECT_FALSE(target_can_play(ExportFormat::kEngineDj, m, &why));
    EXPECT_NE(why.find("Engine DJ"), std::string::npos);
    m.audio.codec = "vorbis";
    EXPECT_TRUE(target_can_play(ExportFormat::kEngineDj, m));
    m.audio.codec = "flac";
    EXPECT_TRUE(target_can_play(ExportFormat::kEngineDj, m));
}

TEST(ExportEngineDj, DjPhraseGridCuesOnThePads) {
    // --cues phrases16 (7 phrase starts: all fit) and phrases8 (10: the section starts first).
    const SongMap m = test::make_phrase_test_map("/music/p.flac");
    const double rate = 44100.0;
    auto quick_cues = [&](CueSource source) {
        ExportOptions o;
        o.cues = source;
        auto bytes = export_song_maps({m}, ExportFormat::kEngineDj, o);
        EXPECT_TRUE(bytes.ok()) << bytes.error().message;
        test::TempDir dir;
        test::Sql db(write_db(dir, bytes.value()));
        const auto t = db.rows("SELECT quickCues FROM Track");
        EXPECT_EQ(t.size(), 1u);
        return decode_quick_cues(t.at(0).at(0));
    };
    const QuickCues q16 = quick_cues(CueSource::kPhrases16);
    ASSERT_EQ(q16.cues.size(), 8u);
    const std::vector<std::pair<double, std::string>> want16 = {
        {0.5, "Intro A"},   {16.5, "Verse B"},     {48.5, "Verse B 2"}, {80.5, "Verse B 3"},
        {96.5, "Chorus C"}, {128.5, "Chorus C 2"}, {144.5, "Outro D"}};
    for (size_t k = 0; k < want16.size(); ++k) {
        EXPECT_NEAR(q16.cues[k].frame, want16[k].first * rate, 1e-6);
        EXPECT_EQ(q16.cues[k].label, want16[k].second);
    }
    EXPECT_EQ(q16.cues[7].frame, -1.0);  // the eighth pad stays empty
    const QuickCues q8 = quick_cues(CueSource::kPhrases8);
    ASSERT_EQ(q8.cues.size(), 8u);
    const std::vector<double> starts8 = {0.5, 16.5, 32.5, 48.5, 64.5, 80.5, 96.5, 144.5};
    for (size_t k = 0; k < 8; ++k) EXPECT_NEAR(q8.cues[k].frame, starts8[k] * rate, 1e-6);
    EXPECT_EQ(q8.cues[7].label, "Outro D");
}
