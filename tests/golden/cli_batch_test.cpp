// Batch mode through the real binary: directories, --recursive, --jobs, the library cache (skip
// unchanged, renamed files not re-analysed), failures listed without stopping the batch, exports,
// `harmony library`, and consistency after SIGINT and kill -9 (a re-run resumes).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "dsp/synth.hpp"
#include "io/wav_writer.hpp"
#include "support/test_support.hpp"

using namespace harmony;
namespace fs = std::filesystem;

namespace {

test::CommandResult harmony_cmd(std::vector<std::string> args, int timeout_s = 120) {
    args.insert(args.begin(), HARMONY_BIN);
    return test::run_command(args, timeout_s);
}

void demo_wav(const std::string& path, double seconds, double bpm) {
    const auto d = dsp::synth::make_demo_track(seconds, bpm);
    ASSERT_TRUE(io::write_wav16(path, d.samples, 1, d.rate_hz).ok());
}

size_t count(const std::string& s, const std::string& needle) {
    size_t n = 0;
    for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
    return n;
}

// Stored analyses, read through a read-only connection (-1 while the database is not there yet).
std::int64_t analyses_in(const std::string& lib_path) {
    sqlite3* db = nullptr;
    std::int64_t n = -1;
    if (sqlite3_open_v2(lib_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM analyses", -1, &st, nullptr) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
}

std::string integrity_check(const std::string& path) {
    sqlite3* db = nullptr;
    std::string result = "cannot open";
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            result = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return result;
}

// Starts harmony in the background (output discarded); returns its pid.
pid_t spawn(const std::vector<std::string>& args) {
    const pid_t pid = fork();
    if (pid == 0) {
        const int null = ::open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        std::vector<char*> argv;
        argv.push_back(const_cast<char*>(HARMONY_BIN));
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(HARMONY_BIN, argv.data());
        _exit(127);
    }
    return pid;
}

// Waits until the library holds at least `n` analyses (or the process ended / 60 s passed).
bool wait_for_analyses(const std::string& lib, std::int64_t n, pid_t pid) {
    for (int i = 0; i < 1200; ++i) {
        if (fs::exists(lib) && analyses_in(lib) >= n) return true;
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

}  // namespace

TEST(CliBatch, DirectoryCacheRenameFailuresAndExports) {
    test::TempDir dir;
    const std::string music = dir.file("music");
    fs::create_directories(music + "/sub");
    demo_wav(music + "/a.wav", 6.0, 120.0);
    demo_wav(music + "/b.wav", 6.0, 128.0);
    demo_wav(music + "/sub/c.wav", 6.0, 100.0);
    test::write_file(music + "/broken.mp3", "this is not audio at all");
    const std::string lib = dir.file("lib/library.sqlite");

    // Without --recursive only the top level is taken.
    auto flat = harmony_cmd({"analyze", music, "--jobs", "2", "--library", lib});
    EXPECT_EQ(flat.exit_code, 3) << flat.err;  // broken.mp3 failed, the others were analysed
    EXPECT_TRUE(flat.out.empty());
    EXPECT_NE(flat.err.find("3 files"), std::string::npos) << flat.err;
    EXPECT_NE(flat.err.find("2 analysed, 0 cached, 1 failed"), std::string::npos) << flat.err;
    EXPECT_EQ(count(flat.err, "harmony: error: "), 1u) << flat.err;
    EXPECT_NE(flat.err.find("broken.mp3: "), std::string::npos) << "failed file listed in the summary: " << flat.err;
    EXPECT_NE(flat.err.find("harmony: [3/3] "), std::string::npos) << "plain progress lines: " << flat.err;

    // Recursive re-run: the two known files come from the cache, c.wav is new.
    auto rec = harmony_cmd({"analyze", music, "--recursive", "--jobs", "2", "--library", lib});
    EXPECT_EQ(rec.exit_code, 3) << rec.err;
    EXPECT_NE(rec.err.find("4 files"), std::string::npos) << rec.err;
    EXPECT_NE(rec.err.find("1 analysed, 2 cached, 1 failed"), std::string::npos) << rec.err;

    // A renamed file is found by content: nothing is analysed again; the library follows the move.
    fs::rename(music + "/a.wav", music + "/renamed.wav");
    fs::remove(music + "/broken.mp3");
    auto again = harmony_cmd({"analyze", music, "-r", "-j", "2", "--library", lib});
    EXPECT_EQ(again.exit_code, 0) << again.err;
    EXPECT_NE(again.err.find("0 analysed, 3 cached, 0 failed"), std::string::npos) << again.err;

    auto list = harmony_cmd({"library", "list", "--library", lib, "--json", "--sort", "bpm"});
    ASSERT_EQ(list.exit_code, 0) << list.err;
    const auto rows = nlohmann::json::parse(list.out);
    ASSERT_EQ(rows.size(), 3u) << list.out;
    std::vector<std::string> names;
    for (const auto& r : rows) names.push_back(fs::path(r["path"].get<std::string>()).filename().string());
    EXPECT_EQ(std::count(names.begin(), names.end(), "renamed.wav"), 1) << list.out;
    EXPECT_EQ(std::count(names.begin(), names.end(), "a.wav"), 0) << list.out;
    for (size_t i = 1; i < rows.size(); ++i)
        if (!rows[i]["bpm"].is_null() && !rows[i - 1]["bpm"].is_null()) {
            EXPECT_LE(rows[i - 1]["bpm"].get<double>(), rows[i]["bpm"].get<double>());
        }

    auto table = harmony_cmd({"library", "list", "--library", lib, "--bpm", "0-1000"});
    EXPECT_EQ(table.exit_code, 0);
    EXPECT_EQ(count(table.out, "\n"), 4u) << table.out;  // header + 3 rows

    // --no-cache analyses again; the library still has one row per file.
    auto fresh = harmony_cmd({"analyze", music + "/sub", "--no-cache", "--library", lib, "-q"});
    EXPECT_EQ(fresh.exit_code, 0) << fresh.err;
    EXPECT_NE(fresh.err.find("1 analysed, 0 cached"), std::string::npos) << fresh.err;

    // Exports of a batch and of the whole library.
    const std::string xml = dir.file("rekordbox.xml");
    auto exp = harmony_cmd({"analyze", music, "-r", "--library", lib, "--export", "rekordbox", "-o", xml});
    EXPECT_EQ(exp.exit_code, 0) << exp.err;
    const std::string x = test::read_file(xml);
    EXPECT_EQ(count(x, "<TRACK TrackID="), 3u) << x;
    auto csv = harmony_cmd({"library", "export", "csv", "--library", lib});
    EXPECT_EQ(csv.exit_code, 0) << csv.err;
    EXPECT_EQ(count(csv.out, "\n"), 4u) << csv.out;
    auto m3u = harmony_cmd({"library", "export", "m3u", "--library", lib, "-o", dir.file("set.m3u")});
    EXPECT_EQ(m3u.exit_code, 0) << m3u.err;
    EXPECT_EQ(count(test::read_file(dir.file("set.m3u")), "#EXTINF:"), 3u);
    // Per-track formats of several tracks: one file each in a directory.
    auto jams = harmony_cmd({"library", "export", "jams", "--library", lib, "-o", dir.file("jams")});
    EXPECT_EQ(jams.exit_code, 0) << jams.err;
    size_t n_jams = 0;
    for (const auto& e : fs::directory_iterator(dir.file("jams"))) n_jams += e.path().extension() == ".jams";
    EXPECT_EQ(n_jams, 3u);
    EXPECT_EQ(harmony_cmd({"analyze", music, "-r", "--library", lib, "--export", "beats"}).exit_code, 2);
    auto stats = harmony_cmd({"library", "stats", "--library", lib, "--json"});
    ASSERT_EQ(stats.exit_code, 0);
    EXPECT_EQ(nlohmann::json::parse(stats.out)["files"], 3);

    // Usage errors.
    EXPECT_EQ(harmony_cmd({"library", "export", "mp3", "--library", lib}).exit_code, 2);
    EXPECT_EQ(harmony_cmd({"library", "list", "--library", lib, "--key", "13Z"}).exit_code, 2);
    EXPECT_EQ(harmony_cmd({"analyze", music, "--library", lib, "--export", "bogus"}).exit_code, 2);
}

TEST(CliBatch, OutputDirectoryGetsOneJsonPerFile) {
    test::TempDir dir;
    fs::create_directories(dir.file("in/y"));
    demo_wav(dir.file("in/x.wav"), 4.0, 120.0);
    demo_wav(dir.file("in/y/x.wav"), 4.0, 124.0);  // same stem: no clobbering
    auto r =
        harmony_cmd({"analyze", dir.file("in"), "-r", "--no-library", "-o", dir.file("out"), "--only", "loudness"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(fs::exists(dir.file("out/x.json")));
    EXPECT_TRUE(fs::exists(dir.file("out/x-2.json")));
}

TEST(CliBatch, StemsOneFolderPerFileAsFlac) {
    test::TempDir dir;
    fs::create_directories(dir.file("in/y"));
    demo_wav(dir.file("in/x.wav"), 3.0, 120.0);
    demo_wav(dir.file("in/y/x.wav"), 3.0, 124.0);  // same name: its own folder
    auto r = harmony_cmd({"analyze", dir.file("in"), "-r", "--jobs", "2", "--no-library", "-o", dir.file("out"),
                          "--only", "loudness", "--stems", dir.file("stems"), "--stems-format", "flac"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const char* sub : {"x", "x-2"})
        for (const char* stem : {"vocals", "drums", "bass", "other"})
            EXPECT_GT(fs::file_size(dir.file(std::string("stems/") + sub + "/" + stem + ".flac")), 100u) << sub;
    const auto j = nlohmann::json::parse(test::read_file(dir.file("out/x.json")));
    EXPECT_EQ(j["stems"]["format"], "flac-s24");
    EXPECT_EQ(j["stems"]["stems"].size(), 4u);
    EXPECT_NE(j["stems"]["stems"][0]["file"].get<std::string>().find(".flac"), std::string::npos);
    // --stems-format without --stems is a usage error.
    auto bad = harmony_cmd({"analyze", dir.file("in/x.wav"), "--stems-format", "flac"});
    EXPECT_EQ(bad.exit_code, 2) << bad.err;
    EXPECT_NE(bad.err.find("--stems-format needs --stems"), std::string::npos) << bad.err;
}

TEST(CliBatch, KillNineThenResume) {
    test::TempDir dir;
    const std::string music = dir.file("music");
    fs::create_directories(music);
    for (int i = 0; i < 6; ++i) demo_wav(music + "/t" + std::to_string(i) + ".wav", 8.0, 110.0 + 3 * i);
    const std::string lib = dir.file("library.sqlite");
    const pid_t pid = spawn({"analyze", music, "--jobs", "1", "--library", lib});
    ASSERT_TRUE(wait_for_analyses(lib, 1, pid)) << "no analysis was stored";
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status));
    const auto stored = analyses_in(lib);
    ASSERT_GE(stored, 1);

    // The database opens and passes SQLite's integrity check; a re-run resumes.
    EXPECT_EQ(integrity_check(lib), "ok");
    auto again = harmony_cmd({"analyze", music, "--jobs", "2", "--library", lib});
    EXPECT_EQ(again.exit_code, 0) << again.err;
    EXPECT_NE(again.err.find("6 files"), std::string::npos) << again.err;
    EXPECT_NE(again.err.find(std::to_string(stored) + " cached"), std::string::npos)
        << "stored before the kill: " << stored << "\n"
        << again.err;
    EXPECT_EQ(analyses_in(lib), 6);
}

TEST(CliBatch, InterruptFinishesCleanlyThenResume) {
    test::TempDir dir;
    const std::string music = dir.file("music");
    fs::create_directories(music);
    for (int i = 0; i < 6; ++i) demo_wav(music + "/t" + std::to_string(i) + ".wav", 8.0, 110.0 + 3 * i);
    const std::string lib = dir.file("library.sqlite");
    const pid_t pid = spawn({"analyze", music, "--jobs", "1", "--library", lib});
    ASSERT_TRUE(wait_for_analyses(lib, 1, pid));
    kill(pid, SIGINT);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 130);
    const auto stored = analyses_in(lib);
    EXPECT_GE(stored, 1);
    EXPECT_LT(stored, 6);
    auto again = harmony_cmd({"analyze", music, "--library", lib, "-j", "2"});
    EXPECT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(analyses_in(lib), 6);
}
