// Issue 20 (DJ workflow v2), unit level: file tags in every export, the per-target gapless
// offset, the meter policy, unplayable files, path mapping, M3U clash markers, the terminal
// summary, the audio-only content hash, the library's key sort, migration, prune and duplicates,
// and the tag writer's WAV chunk name, symlinks, hard links and opt-outs.
#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <taglib/fileref.h>
#include <taglib/tpropertymap.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/hash.hpp"
#include "dsp/synth.hpp"
#include "export_test_maps.hpp"
#include "harmony/export.hpp"
#include "io/wav_writer.hpp"
#include "library/library.hpp"
#include "support/test_support.hpp"
#include "tags/tag_writer.hpp"

using namespace harmony;
namespace fs = std::filesystem;

namespace {

// Attribute values through libxml2's XPath (an independent XML reader).
std::vector<std::string> xml_attrs(const std::string& text, const std::string& xpath, const char* attr) {
    std::vector<std::string> out;
    xmlDocPtr doc = xmlReadMemory(text.data(), static_cast<int>(text.size()), "x.xml", "UTF-8", XML_PARSE_NONET);
    if (!doc) return {"<unparsable>"};
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr res = xmlXPathEvalExpression(reinterpret_cast<const xmlChar*>(xpath.c_str()), ctx);
    if (res && res->nodesetval)
        for (int i = 0; i < res->nodesetval->nodeNr; ++i) {
            xmlChar* v = xmlGetProp(res->nodesetval->nodeTab[i], reinterpret_cast<const xmlChar*>(attr));
            out.push_back(v ? reinterpret_cast<const char*>(v) : "<missing>");
            xmlFree(v);
        }
    xmlXPathFreeObject(res);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return out;
}

SongMap tagged_map() {
    SongMap m = test::make_test_map("/music/01 - track.mp3", 124.0, 9, true);
    m.audio.tags.title = "Night Drive";
    m.audio.tags.artist = "Kay & Lee";
    m.audio.tags.album = "Roads";
    m.audio.tags.genre = "Techno";
    m.audio.tags.comment = "promo";
    return m;
}

std::string render(const std::vector<SongMap>& maps, ExportFormat f, const ExportOptions& o = {}) {
    auto r = export_song_maps(maps, f, o);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : "";
}

std::string read_all(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
}

void demo_wav(const std::string& path, double seconds = 4.0) {
    const auto d = dsp::synth::make_demo_track(seconds, 120.0);
    ASSERT_TRUE(io::write_wav16(path, d.samples, 1, d.rate_hz).ok());
}

}  // namespace

// Item 1: artist and title come from the file's tags in every export.
TEST(DjTags, EveryExportCarriesArtistAndTitle) {
    const std::vector<SongMap> maps = {tagged_map()};
    const std::string rb = render(maps, ExportFormat::kRekordboxXml);
    EXPECT_EQ(xml_attrs(rb, "//COLLECTION/TRACK", "Name"), std::vector<std::string>{"Night Drive"});
    EXPECT_EQ(xml_attrs(rb, "//COLLECTION/TRACK", "Artist"), std::vector<std::string>{"Kay & Lee"});
    EXPECT_EQ(xml_attrs(rb, "//COLLECTION/TRACK", "Album"), std::vector<std::string>{"Roads"});
    EXPECT_EQ(xml_attrs(rb, "//COLLECTION/TRACK", "Genre"), std::vector<std::string>{"Techno"});
    EXPECT_EQ(xml_attrs(rb, "//COLLECTION/TRACK", "Comments"), std::vector<std::string>{"promo"});
    const std::string nml = render(maps, ExportFormat::kTraktorNml);
    EXPECT_EQ(xml_attrs(nml, "//COLLECTION/ENTRY", "TITLE"), std::vector<std::string>{"Night Drive"});
    EXPECT_EQ(xml_attrs(nml, "//COLLECTION/ENTRY", "ARTIST"), std::vector<std::string>{"Kay & Lee"});
    EXPECT_EQ(xml_attrs(nml, "//COLLECTION/ENTRY/ALBUM", "TITLE"), std::vector<std::string>{"Roads"});
    EXPECT_EQ(xml_attrs(nml, "//COLLECTION/ENTRY/INFO", "GENRE"), std::vector<std::string>{"Techno"});
    const auto jams = nlohmann::json::parse(render(maps, ExportFormat::kJams));
    EXPECT_EQ(jams["file_metadata"]["title"], "Night Drive");
    EXPECT_EQ(jams["file_metadata"]["artist"], "Kay & Lee");
    EXPECT_NE(render(maps, ExportFormat::kM3u).find("#EXTINF:60,Kay & Lee - Night Drive ["), std::string::npos);
    EXPECT_NE(render(maps, ExportFormat::kCsv).find("Night Drive"), std::string::npos);
    // No tags: the file name, as before.
    const std::string plain =
        render({test::make_test_map("/music/01 - track.mp3", 124.0, 9, true)}, ExportFormat::kRekordboxXml);
    EXPECT_EQ(xml_attrs(plain, "//COLLECTION/TRACK", "Name"), std::vector<std::string>{"01 - track"});
    // Tags survive the Song Map JSON round trip (library storage).
    auto back = song_map_from_json(to_json(maps[0], -1).value());
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->audio.tags.artist, "Kay & Lee");
}

// Item 3: rekordbox ignores LAME gapless info, so its grid and cues are shifted by the trimmed
// frames; Traktor applies it (no shift); other codecs are never shifted.
TEST(DjOffsets, RekordboxGridsOnGaplessMp3sAreShiftedByTheTrim) {
    SongMap m = test::make_test_map("/music/a.mp3", 124.0, 9, true);
    m.audio.codec = "mp3float";
    m.audio.gapless_trim_frames = 1105;  // LAME 576 + decoder 529
    const double shift = 1105.0 / 44100.0;
    EXPECT_NEAR(target_time_offset_s(m, DjTarget::kRekordbox), shift, 1e-12);
    EXPECT_NEAR(target_time_offset_s(m, DjTarget::kSerato), shift, 1e-12);
    EXPECT_EQ(target_time_offset_s(m, DjTarget::kTraktor), 0.0);
    const std::string rb = render({m}, ExportFormat::kRekordboxXml);
    const auto inizio = xml_attrs(rb, "//TRACK/TEMPO", "Inizio");
    ASSERT_EQ(inizio.size(), 1u);
    EXPECT_NEAR(std::stod(inizio[0]), 0.5 + shift, 0.0006);  // 3 decimals
    const std::string nml = render({m}, ExportFormat::kTraktorNml);
    EXPECT_EQ(xml_attrs(nml, "//CUE_V2[@TYPE='4']", "START"), std::vector<std::string>{"500.000000"});
    SongMap flac = m;
    flac.audio.codec = "flac";
    EXPECT_EQ(target_time_offset_s(flac, DjTarget::kRekordbox), 0.0);
}

// Item 6: an odd meter goes to DJ software only when confident; --force-4-4.
TEST(DjMeter, LowConfidenceOddMetersExportAsFourFour) {
    SongMap m = test::make_test_map("/music/a.mp3", 124.0, 9, true);
    m.meter->label = "3/4";
    m.meter->numerator = 3;
    m.meter->confidence = 0.64;
    for (size_t i = 0; i < m.beats->positions.size(); ++i) m.beats->positions[i] = static_cast<int>(i % 3) + 1;
    EXPECT_EQ(xml_attrs(render({m}, ExportFormat::kRekordboxXml), "//TRACK/TEMPO", "Metro"),
              std::vector<std::string>{"4/4"});
    m.meter->confidence = 0.95;
    EXPECT_EQ(xml_attrs(render({m}, ExportFormat::kRekordboxXml), "//TRACK/TEMPO", "Metro"),
              std::vector<std::string>{"3/4"});
    ExportOptions o;
    o.force_four_four = true;
    EXPECT_EQ(xml_attrs(render({m}, ExportFormat::kRekordboxXml, o), "//TRACK/TEMPO", "Metro"),
              std::vector<std::string>{"4/4"});
}

// Item 7: files the target cannot play are flagged.
TEST(DjPlayable, OpusIsNotForRekordbox) {
    SongMap m = test::make_test_map("/music/a.opus", 124.0, 9, true);
    m.audio.codec = "opus";
    std::string why;
    EXPECT_FALSE(target_can_play(ExportFormat::kRekordboxXml, m, &why));
    EXPECT_NE(why.find("rekordbox cannot play opus"), std::string::npos) << why;
    EXPECT_FALSE(target_can_play(ExportFormat::kTraktorNml, m));
    EXPECT_TRUE(target_can_play(ExportFormat::kCsv, m));
    m.audio.codec = "vorbis";
    EXPECT_FALSE(target_can_play(ExportFormat::kRekordboxXml, m));
    EXPECT_TRUE(target_can_play(ExportFormat::kTraktorNml, m));
    m.audio.codec = "mp3float";
    EXPECT_TRUE(target_can_play(ExportFormat::kRekordboxXml, m));
}

// Item 11: --key-notation reaches rekordbox and Traktor; each keeps its own notation otherwise.
TEST(DjKeys, NotationReachesRekordboxAndTraktor) {
    const std::vector<SongMap> maps = {test::make_test_map("/music/a.mp3", 124.0, 9, true)};
    EXPECT_EQ(xml_attrs(render(maps, ExportFormat::kRekordboxXml), "//COLLECTION/TRACK", "Tonality"),
              std::vector<std::string>{"Am"});
    EXPECT_EQ(xml_attrs(render(maps, ExportFormat::kTraktorNml), "//ENTRY/INFO", "KEY"),
              std::vector<std::string>{"1m"});
    ExportOptions o;
    o.dj_key_notation = KeyNotation::kCamelot;
    EXPECT_EQ(xml_attrs(render(maps, ExportFormat::kRekordboxXml, o), "//COLLECTION/TRACK", "Tonality"),
              std::vector<std::string>{"8A"});
    EXPECT_EQ(xml_attrs(render(maps, ExportFormat::kTraktorNml, o), "//ENTRY/INFO", "KEY"),
              std::vector<std::string>{"8A"});
}

// Path remapping for another machine.
TEST(DjPaths, PathMapRewritesWholeComponents) {
    const std::vector<std::pair<std::string, std::string>> pm = {{"/home/me/Music", "/Volumes/USB/Music"}};
    EXPECT_EQ(map_export_path("/home/me/Music/a b.mp3", pm), "/Volumes/USB/Music/a b.mp3");
    EXPECT_EQ(map_export_path("/home/me/Musical/a.mp3", pm), "/home/me/Musical/a.mp3");
    EXPECT_FALSE(parse_path_map("nothing").ok());
    ExportOptions o;
    o.path_map = {{"/music", "C:/DJ"}};
    const std::vector<SongMap> maps = {test::make_test_map("/music/a b.mp3", 124.0, 9, true)};
    EXPECT_EQ(xml_attrs(render(maps, ExportFormat::kRekordboxXml, o), "//COLLECTION/TRACK", "Location"),
              std::vector<std::string>{"file://localhost/C:/DJ/a%20b.mp3"});
    EXPECT_EQ(xml_attrs(render(maps, ExportFormat::kTraktorNml, o), "//ENTRY/LOCATION", "DIR"),
              std::vector<std::string>{"/:C:/:DJ/:"});
    EXPECT_NE(render(maps, ExportFormat::kM3u, o).find("\nC:/DJ/a b.mp3\n"), std::string::npos);
}

// Item 11: the M3U marks the steps that are not harmonic within the tolerance.
TEST(DjM3u, ClashingStepsAreMarked) {
    const std::vector<SongMap> maps = {test::make_test_map("/m/a.mp3", 124.0, 9, true),    // 8A
                                       test::make_test_map("/m/b.mp3", 125.0, 4, true),    // 9A
                                       test::make_test_map("/m/c.mp3", 150.0, 1, false)};  // 3B
    const std::string m3u = render(maps, ExportFormat::kM3u);
    EXPECT_EQ(m3u.find("# clash"), m3u.rfind("# clash")) << m3u;  // exactly one clash
    EXPECT_NE(m3u.find("# clash: key clash 9A -> 3B, tempo step 20.0 %"), std::string::npos) << m3u;
}

// Item 11: the terminal summary line.
TEST(DjSummary, OneLine) {
    const SongMap m = test::make_test_map("/m/a.mp3", 120.0, 9, true, 0.0, -8.1);
    EXPECT_EQ(summary_text(m), "120.00 BPM \u00b7 A minor (8A) \u00b7 4/4 \u00b7 \u22128.1 LUFS");
}

// Item 9: the content hash leaves tags out.
TEST(DjHash, AudioHashIgnoresTagEditsButNotAudio) {
    test::TempDir dir;
    const std::string wav = dir.file("a.wav");
    demo_wav(wav);
    const std::string before = core::hash_audio_file(wav).value();
    const std::string whole_before = core::hash_file(wav).value();
    SongMap m = test::make_test_map(wav, 124.0, 9, true);
    tags::TagOptions o;
    o.comment_template = "{camelot}";
    ASSERT_TRUE(tags::write_tags(wav, m, o).ok());
    EXPECT_NE(core::hash_file(wav).value(), whole_before);  // the bytes changed
    EXPECT_EQ(core::hash_audio_file(wav).value(), before);  // the audio did not
    demo_wav(dir.file("b.wav"), 5.0);
    EXPECT_NE(core::hash_audio_file(dir.file("b.wav")).value(), before);
    // A file no layout matches is hashed whole.
    test::write_file(dir.file("x.bin"), "not audio");
    EXPECT_EQ(core::hash_audio_file(dir.file("x.bin")).value(), core::hash_file(dir.file("x.bin")).value());
}

// Item 2: sorting by key works (it failed with a SQL syntax error), in both directions.
TEST(DjLibrary, SortByKey) {
    test::TempDir dir;
    auto lib = library::Library::open(dir.file("lib.sqlite")).value();
    const std::vector<std::tuple<std::string, int, bool>> tracks = {
        {"a.mp3", 4, true}, {"b.mp3", 9, true}, {"c.mp3", 0, false}, {"d.mp3", 1, false}};  // 9A 8A 8B 3B
    for (const auto& [name, pc, minor] : tracks) {
        test::write_file(dir.file(name), "bytes of " + name);
        SongMap m = test::make_test_map(dir.file(name), 124.0, pc, minor);
        m.audio.content_hash = lib->content_hash_of(dir.file(name)).value();
        ASSERT_TRUE(lib->record(dir.file(name), m, to_json(m, -1).value(), "cfg").ok());
    }
    library::Query q;
    q.sort = "key";
    auto rows = lib->list(q);
    ASSERT_TRUE(rows.ok()) << rows.error().message;
    std::vector<std::string> keys;
    for (const auto& r : *rows) keys.push_back(r.camelot);
    EXPECT_EQ(keys, (std::vector<std::string>{"3B", "8A", "8B", "9A"}));
    q.descending = true;
    keys.clear();
    const auto desc = lib->list(q).value();
    for (const auto& r : desc) keys.push_back(r.camelot);
    EXPECT_EQ(keys, (std::vector<std::string>{"9A", "8B", "8A", "3B"}));
}

// Item 9: deleted files leave the listing; prune forgets them; identical files are one row.
TEST(DjLibrary, MissingFilesPruneAndDuplicates) {
    test::TempDir dir;
    auto lib = library::Library::open(dir.file("lib.sqlite")).value();
    for (const char* name : {"a.mp3", "b.mp3", "copy-of-a.mp3"}) {
        const std::string path = dir.file(name);
        test::write_file(path, std::string(name) == "b.mp3" ? "bytes b" : "bytes a");
        SongMap m = test::make_test_map(path, 124.0, 9, true);
        m.audio.content_hash = lib->content_hash_of(path).value();
        ASSERT_TRUE(lib->record(path, m, to_json(m, -1).value(), "cfg").ok());
    }
    auto rows = lib->list({}).value();
    ASSERT_EQ(rows.size(), 2u);  // a and its copy: one row
    EXPECT_EQ(rows[0].copies, 2);
    library::Query all;
    all.all_copies = true;
    EXPECT_EQ(lib->list(all)->size(), 3u);
    auto groups = lib->duplicates().value();
    ASSERT_EQ(groups.size(), 1u);
    EXPECT_EQ(groups[0], (std::vector<std::string>{dir.file("a.mp3"), dir.file("copy-of-a.mp3")}));

    fs::remove(dir.file("b.mp3"));
    EXPECT_EQ(lib->list({})->size(), 1u);  // gone from the listing (and so from exports)
    library::Query with_missing;
    with_missing.include_missing = true;
    EXPECT_EQ(lib->list(with_missing)->size(), 2u);
    auto dry = lib->prune(true).value();
    EXPECT_EQ(dry.missing_paths, std::vector<std::string>{dir.file("b.mp3")});
    EXPECT_EQ(dry.orphan_analyses, 1);
    EXPECT_EQ(lib->stats()->files, 3);  // a dry run changes nothing
    auto done = lib->prune(false).value();
    EXPECT_EQ(done.orphan_analyses, 1);
    EXPECT_EQ(lib->stats()->files, 2);
    EXPECT_EQ(lib->stats()->analyses, 1);
}

// Item 9: a version-1 library (whole-file hashes) is migrated to audio-only hashes on open.
TEST(DjLibrary, MigratesVersionOneLibraries) {
    test::TempDir dir;
    const std::string wav = dir.file("a.wav");
    demo_wav(wav);
    const std::string old_hash = core::hash_file(wav).value();
    const std::string db_path = dir.file("v1.sqlite");
    {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
        SongMap m = test::make_test_map(wav, 124.0, 9, true);
        m.audio.content_hash = old_hash;
        const std::string json = to_json(m, -1).value();
        std::string sql =
            "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO meta VALUES('schema_version','1');"
            "CREATE TABLE analyses(id INTEGER PRIMARY KEY, content_hash TEXT NOT NULL, config_key TEXT NOT NULL,"
            " title TEXT NOT NULL, duration_s REAL NOT NULL, bpm REAL, key_label TEXT, camelot TEXT, open_key TEXT,"
            " integrated_lufs REAL, energy INTEGER, truncated INTEGER NOT NULL DEFAULT 0, analyzers TEXT NOT NULL,"
            " analyzed_at TEXT NOT NULL, song_map TEXT NOT NULL, UNIQUE(content_hash, config_key));"
            "CREATE TABLE files(path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,"
            " content_hash TEXT NOT NULL, seen_at TEXT NOT NULL);";
        ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(
            db,
            "INSERT INTO analyses(content_hash, config_key, title, duration_s, bpm, camelot, analyzers, "
            "analyzed_at, song_map) VALUES(?1,'cfg','a',60,124,'8A','tempo@1','2024-01-01T00:00:00Z',?2)",
            -1, &st, nullptr);
        sqlite3_bind_text(st, 1, old_hash.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, json.c_str(), -1, SQLITE_TRANSIENT);
        ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
        sqlite3_finalize(st);
        sqlite3_prepare_v2(db, "INSERT INTO files VALUES(?1, 1, 1, ?2, '2024-01-01T00:00:00Z')", -1, &st, nullptr);
        sqlite3_bind_text(st, 1, wav.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, old_hash.c_str(), -1, SQLITE_TRANSIENT);
        ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    auto lib = library::Library::open(db_path);
    ASSERT_TRUE(lib.ok()) << lib.error().message;
    const std::string new_hash = core::hash_audio_file(wav).value();
    ASSERT_NE(new_hash, old_hash);
    auto hit = (*lib)->find(new_hash, "cfg");
    ASSERT_TRUE(hit.ok() && hit->has_value());
    EXPECT_EQ(song_map_from_json(**hit)->audio.content_hash, new_hash);
    auto rows = (*lib)->list({}).value();
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].content_hash, new_hash);
}

// Item 8: the WAV ID3 chunk keeps its name; a new one is "id3 " (exiftool reads only that).
TEST(DjTagWriter, WavChunkNameIsKept) {
    test::TempDir dir;
    const std::string wav = dir.file("a.wav");
    demo_wav(wav);
    const SongMap m = test::make_test_map(wav, 124.0, 9, true);
    ASSERT_TRUE(tags::write_tags(wav, m, {}).ok());
    const std::string bytes = read_all(wav);
    EXPECT_NE(bytes.find("id3 "), std::string::npos);
    EXPECT_EQ(bytes.find("ID3 "), std::string::npos);
    TagLib::FileRef f(wav.c_str());
    ASSERT_FALSE(f.isNull());
    EXPECT_EQ(f.file()->properties()["BPM"].toString().to8Bit(true), "124");
    // Written again (TagLib itself writes "ID3 "): still "id3 ".
    tags::TagOptions o;
    o.comment_template = "{camelot}";
    ASSERT_TRUE(tags::write_tags(wav, m, o).ok());
    const std::string again = read_all(wav);
    EXPECT_NE(again.find("id3 "), std::string::npos);
    EXPECT_EQ(again.find("ID3 "), std::string::npos);
}

// Item 8: symlinks stay symlinks (the target is tagged), hard links stay linked.
TEST(DjTagWriter, SymlinksAndHardLinksArePreserved) {
    test::TempDir dir;
    const std::string real = dir.file("real.wav");
    demo_wav(real);
    fs::create_symlink(real, dir.file("link.wav"));
    const SongMap m = test::make_test_map(real, 124.0, 9, true);
    ASSERT_TRUE(tags::write_tags(dir.file("link.wav"), m, {}).ok());
    EXPECT_TRUE(fs::is_symlink(dir.file("link.wav")));
    EXPECT_EQ(TagLib::FileRef(real.c_str()).file()->properties()["BPM"].toString().to8Bit(true), "124");

    const std::string hard = dir.file("hard.wav");
    demo_wav(hard);
    fs::create_hard_link(hard, dir.file("hard2.wav"));
    struct stat before {};
    ::stat(hard.c_str(), &before);
    ASSERT_TRUE(tags::write_tags(hard, m, {}).ok());
    struct stat after {
    }, other{};
    ::stat(hard.c_str(), &after);
    ::stat(dir.file("hard2.wav").c_str(), &other);
    EXPECT_EQ(after.st_ino, before.st_ino);
    EXPECT_EQ(other.st_ino, before.st_ino);
    EXPECT_EQ(after.st_nlink, 2u);
    EXPECT_EQ(TagLib::FileRef(dir.file("hard2.wav").c_str()).file()->properties()["BPM"].toString().to8Bit(true),
              "124");
}

// Item 8: an opt-out keeps hand-set BPM/key; integer BPM on request.
TEST(DjTagWriter, KeepExistingSkipTaggedAndIntegerBpm) {
    test::TempDir dir;
    const std::string wav = dir.file("a.wav");
    demo_wav(wav);
    SongMap hand = test::make_test_map(wav, 128.0, 0, false);  // the "hand-set" values: 128, C
    ASSERT_TRUE(tags::write_tags(wav, hand, {}).ok());
    SongMap m = test::make_test_map(wav, 130.03, 9, true);
    tags::TagOptions keep;
    keep.keep_existing = true;
    auto r = tags::write_tags(wav, m, keep);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->changes.empty());
    EXPECT_EQ(r->kept.size(), 2u);
    tags::TagOptions skip;
    skip.skip_tagged = true;
    EXPECT_TRUE(tags::write_tags(wav, m, skip)->changes.empty());
    tags::TagOptions integer;
    integer.integer_bpm = true;
    ASSERT_TRUE(tags::write_tags(wav, m, integer).ok());
    EXPECT_EQ(TagLib::FileRef(wav.c_str()).file()->properties()["BPM"].toString().to8Bit(true), "130");
    ASSERT_TRUE(tags::write_tags(wav, m, {}).ok());
    EXPECT_EQ(TagLib::FileRef(wav.c_str()).file()->properties()["BPM"].toString().to8Bit(true), "130.03");
}

// Crates from folders: one playlist per folder (rekordbox and Traktor), when there are several.
TEST(DjPlaylists, FoldersBecomePlaylists) {
    const std::vector<SongMap> maps = {test::make_test_map("/music/House/a.mp3", 124.0, 9, true),
                                       test::make_test_map("/music/Techno/b.mp3", 130.0, 4, true),
                                       test::make_test_map("/music/House/c.mp3", 125.0, 0, false)};
    const std::string rb = render(maps, ExportFormat::kRekordboxXml);
    EXPECT_EQ(xml_attrs(rb, "//NODE[@Name='Folders']/NODE", "Name"), (std::vector<std::string>{"House", "Techno"}));
    EXPECT_EQ(xml_attrs(rb, "//NODE[@Name='House']/TRACK", "Key"), (std::vector<std::string>{"1", "3"}));
    EXPECT_EQ(xml_attrs(rb, "//NODE[@Name='Harmony']/TRACK", "Key").size(), 3u);
    const std::string nml = render(maps, ExportFormat::kTraktorNml);
    EXPECT_EQ(xml_attrs(nml, "//NODE[@NAME='Techno']//PRIMARYKEY", "KEY"),
              std::vector<std::string>{"/:music/:Techno/:b.mp3"});
    // One folder: no extra playlists.
    const std::string one = render({maps[0], maps[2]}, ExportFormat::kRekordboxXml);
    EXPECT_TRUE(xml_attrs(one, "//NODE[@Name='Folders']", "Name").empty());
}
