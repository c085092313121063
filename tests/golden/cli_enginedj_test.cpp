// Engine DJ export through the real binary: `--export enginedj -o FOLDER` writes
// FOLDER/Database2/m.db, the track's path goes through --path-map, the beat grid decodes (qCompress
// framing, little-endian markers) to the analysed tempo, and an existing library is never replaced.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "dsp/synth.hpp"
#include "io/wav_writer.hpp"
#include "support/test_support.hpp"

using namespace harmony;
namespace fs = std::filesystem;

namespace {

test::CommandResult harmony_cmd(std::vector<std::string> args) {
    args.insert(args.begin(), HARMONY_BIN);
    return test::run_command(args, 120);
}

// Track path, bpm column and the BPM / marker count of the beatData blob, read here from the bytes.
struct Row {
    std::string path;
    double bpm_analyzed = 0;
    double grid_bpm = 0;
    std::int64_t markers = 0;
};
Row read_track(const std::string& db_path) {
    Row row;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT path, bpmAnalyzed, beatData FROM Track", -1, &st, nullptr), SQLITE_OK);
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        row.path = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        row.bpm_analyzed = sqlite3_column_double(st, 1);
        const auto* b = static_cast<const unsigned char*>(sqlite3_column_blob(st, 2));
        const auto n = static_cast<size_t>(sqlite3_column_bytes(st, 2));
        if (b && n > 4) {
            uLongf len = (uLongf{b[0]} << 24) | (uLongf{b[1]} << 16) | (uLongf{b[2]} << 8) | uLongf{b[3]};
            std::vector<unsigned char> raw(len);
            EXPECT_EQ(uncompress(raw.data(), &len, b + 4, static_cast<uLong>(n - 4)), Z_OK);
            auto le = [&](size_t p, int bytes) {
                std::uint64_t v = 0;
                for (int i = 0; i < bytes; ++i) v |= std::uint64_t{raw.at(p + static_cast<size_t>(i))} << (8 * i);
                return v;
            };
            double rate = 0;
            std::uint64_t be = 0;
            for (int i = 0; i < 8; ++i) be = be << 8 | raw.at(static_cast<size_t>(i));
            std::memcpy(&rate, &be, 8);
            std::uint64_t count = 0;
            for (int i = 0; i < 8; ++i) count = count << 8 | raw.at(17 + static_cast<size_t>(i));
            row.markers = static_cast<std::int64_t>(count);
            if (count >= 2) {
                const size_t first = 25, last = 25 + 24 * (count - 1);
                double f0 = 0, f1 = 0;
                const std::uint64_t b0 = le(first, 8), b1 = le(last, 8);
                std::memcpy(&f0, &b0, 8);
                std::memcpy(&f1, &b1, 8);
                const auto beats = static_cast<double>(static_cast<std::int64_t>(le(last + 8, 8)) -
                                                       static_cast<std::int64_t>(le(first + 8, 8)));
                row.grid_bpm = 60.0 * rate * beats / (f1 - f0);
            }
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return row;
}

}  // namespace

TEST(CliEngineDj, WritesTheLibraryFolderAndNeverReplacesOne) {
    test::TempDir dir;
    fs::create_directory(dir.file("in"));
    const auto d = dsp::synth::make_demo_track(12.0, 124.0);
    ASSERT_TRUE(io::write_wav16(dir.file("in/track.wav"), d.samples, 1, d.rate_hz).ok());
    const std::string lib = dir.file("Engine Library");
    const std::vector<std::string> args = {"analyze",    dir.file("in"),
                                           "--library",  dir.file("lib.sqlite"),
                                           "--only",     "tempo,beats,key",
                                           "--export",   "enginedj",
                                           "-o",         lib,
                                           "--path-map", dir.file("in") + "=/Volumes/USB/in"};
    const auto r = harmony_cmd(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string db = lib + "/Database2/m.db";
    ASSERT_TRUE(fs::exists(db));
    const Row row = read_track(db);
    EXPECT_EQ(row.path, "/Volumes/USB/in/track.wav");  // another drive than the library folder: absolute
    EXPECT_NEAR(row.bpm_analyzed, 124.0, 0.5);
    EXPECT_NEAR(row.grid_bpm, row.bpm_analyzed, 0.01);
    EXPECT_GE(row.markers, 2);

    const auto again = harmony_cmd(args);  // an existing library is left alone
    EXPECT_EQ(again.exit_code, 2) << again.err;
    EXPECT_NE(again.err.find("never replaces"), std::string::npos) << again.err;
    EXPECT_EQ(read_track(db).path, row.path);

    const auto no_dir = harmony_cmd({"library", "export", "enginedj", "--library", dir.file("lib.sqlite")});
    EXPECT_EQ(no_dir.exit_code, 2);
    EXPECT_NE(no_dir.err.find("-o DIRECTORY"), std::string::npos) << no_dir.err;
}
