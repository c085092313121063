// The SQLite library: cache keys, store/find, locations and renames, queries, key normalisation.
#include <gtest/gtest.h>

#include <filesystem>

#include "export_test_maps.hpp"
#include "harmony/engine.hpp"
#include "harmony/export.hpp"
#include "library/batch.hpp"
#include "library/library.hpp"
#include "support/test_support.hpp"

using namespace harmony;
namespace fs = std::filesystem;

namespace {

// A file on disk standing for a track, and a map claiming its content hash.
SongMap stored_map(library::Library& lib, const std::string& path, double bpm, int pc, bool minor, double lufs,
                   const std::string& cfg) {
    test::write_file(path, "audio bytes of " + path);
    SongMap m = test::make_test_map(path, bpm, pc, minor, 0.0, lufs);
    m.audio.content_hash = lib.content_hash_of(path).value();
    auto json = to_json(m, -1);
    EXPECT_TRUE(json.ok());
    EXPECT_TRUE(lib.record(path, m, *json, cfg).ok());
    return m;
}

std::vector<std::string> paths_of(const std::vector<library::TrackRow>& rows) {
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(fs::path(r.path).filename().string());
    return out;
}

}  // namespace

TEST(LibraryConfigKey, StableAndSensitiveToVersionsAndParams) {
    AnalysisRequest a;
    auto k1 = library::config_key(a);
    auto k2 = library::config_key(a);
    ASSERT_TRUE(k1.ok() && k2.ok());
    EXPECT_EQ(*k1, *k2);
    AnalysisRequest only;
    only.only = {"loudness"};
    EXPECT_NE(library::config_key(only).value(), *k1);
    // A parameter override changes the key; "85" and "85.0" are the same value.
    const auto& infos = Engine::analyzers();
    for (const auto& info : infos) {
        for (const auto& p : info.params) {
            if (p.type != ParamType::kDouble) continue;
            const double v = (p.min + p.max) / 2.0;
            AnalysisRequest r1, r2;
            r1.params[info.id + "." + p.name] = std::to_string(v);
            r2.params[info.id + "." + p.name] = std::to_string(v) + "0";
            auto c1 = library::config_key(r1);
            ASSERT_TRUE(c1.ok()) << c1.error().message;
            EXPECT_EQ(*c1, library::config_key(r2).value());
            if (std::get<double>(p.default_value) != v) {
                EXPECT_NE(*c1, *k1);
            }
            return;
        }
    }
}

TEST(LibraryStore, FindListRenameAndStats) {
    test::TempDir dir;
    auto opened = library::Library::open(dir.file("sub/lib.sqlite"));
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    auto& lib = **opened;
    const std::string cfg = "cfg1";
    const auto a = stored_map(lib, dir.file("a.mp3"), 124.0, 9, true, -8.0, cfg);    // 8A
    const auto b = stored_map(lib, dir.file("b.mp3"), 126.0, 0, false, -12.0, cfg);  // 8B
    const auto c = stored_map(lib, dir.file("c.mp3"), 140.0, 4, true, -6.0, cfg);    // 9A

    auto hit = lib.find(a.audio.content_hash, cfg);
    ASSERT_TRUE(hit.ok() && hit->has_value());
    EXPECT_TRUE(song_map_from_json(**hit).ok());
    EXPECT_FALSE(lib.find(a.audio.content_hash, "other-config")->has_value());

    library::Query q;
    EXPECT_EQ(paths_of(lib.list(q).value()), (std::vector<std::string>{"a.mp3", "b.mp3", "c.mp3"}));
    q.camelot = {"8A"};
    EXPECT_EQ(paths_of(lib.list(q).value()), std::vector<std::string>{"a.mp3"});
    q.camelot = {"Am", "1d"};  // standard and Open Key accepted
    EXPECT_EQ(paths_of(lib.list(q).value()), (std::vector<std::string>{"a.mp3", "b.mp3"}));
    q.camelot.clear();
    q.bpm_min = 120;
    q.bpm_max = 128;
    q.sort = "energy";
    q.descending = true;
    const auto rows = lib.list(q).value();
    EXPECT_EQ(paths_of(rows), (std::vector<std::string>{"a.mp3", "b.mp3"}));
    ASSERT_TRUE(rows[0].energy && rows[1].energy);
    EXPECT_GT(*rows[0].energy, *rows[1].energy);
    EXPECT_EQ(rows[0].camelot, "8A");
    q.sort = "bogus";
    EXPECT_EQ(lib.list(q).error().code, ErrorCode::kInvalidArgument);
    library::Query bad;
    bad.camelot = {"13Z"};
    EXPECT_FALSE(lib.list(bad).ok());

    // Rename: the content is found by hash at its new path; the vanished path is forgotten.
    fs::rename(dir.file("b.mp3"), dir.file("renamed.mp3"));
    auto h = lib.content_hash_of(dir.file("renamed.mp3"));
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(*h, b.audio.content_hash);
    ASSERT_TRUE(lib.find(*h, cfg)->has_value());
    ASSERT_TRUE(lib.remember_location(dir.file("renamed.mp3"), *h).ok());
    EXPECT_EQ(paths_of(lib.list({}).value()), (std::vector<std::string>{"a.mp3", "c.mp3", "renamed.mp3"}));

    auto st = lib.stats();
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->files, 3);
    EXPECT_EQ(st->analyses, 3);
    EXPECT_EQ(st->with_key, 3);

    // Reopening sees the same data (WAL committed).
    opened->reset();
    auto again = library::Library::open(dir.file("sub/lib.sqlite"));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ((*again)->list({})->size(), 3u);
}

TEST(LibraryKeys, NormaliseCamelot) {
    EXPECT_EQ(library::normalise_camelot("8a"), "8A");
    EXPECT_EQ(library::normalise_camelot("Am"), "8A");
    EXPECT_EQ(library::normalise_camelot("A minor"), "8A");
    EXPECT_EQ(library::normalise_camelot("1m"), "8A");
    EXPECT_EQ(library::normalise_camelot("C"), "8B");
    EXPECT_EQ(library::normalise_camelot("Dbm"), "12A");
    EXPECT_EQ(library::normalise_camelot("C#m"), "12A");
    EXPECT_EQ(library::normalise_camelot("5m"), "12A");
    EXPECT_EQ(library::normalise_camelot("6d"), "1B");
    EXPECT_EQ(library::normalise_camelot("F#"), "2B");
    EXPECT_EQ(library::normalise_camelot("13A"), "");
    EXPECT_EQ(library::normalise_camelot("H"), "");
}

TEST(LibraryInputs, CollectsAudioFilesSortedAndRecursively) {
    test::TempDir dir;
    fs::create_directories(dir.file("sub/deeper"));
    for (const char* f : {"b.mp3", "a.FLAC", "notes.txt", "sub/c.wav", "sub/deeper/d.m4a"})
        test::write_file(dir.file(f), "x");
    auto flat = library::collect_inputs({dir.path()}, false);
    ASSERT_EQ(flat.size(), 2u);
    EXPECT_EQ(fs::path(flat[0]).filename(), "a.FLAC");
    EXPECT_EQ(library::collect_inputs({dir.path()}, true).size(), 4u);
    // Explicit files are kept whatever their extension (so a bad file is reported).
    EXPECT_EQ(library::collect_inputs({dir.file("notes.txt"), dir.file("missing.mp3")}, false).size(), 2u);
}
