// Issue 20 (DJ workflow v2) through the real binary: tags of encoded files reach the exports,
// rekordbox grids of LAME MP3s carry the gapless offset, a tag edit elsewhere does not re-analyse
// (audio-only hash) in MP3, FLAC, Ogg and M4A, `library list --sort key` and `--bpm N` work,
// `--export lab` without a chords analyzer fails once and clearly, failed tag writes are counted,
// single-file runs are recorded, unplayable files are left out of rekordbox exports.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <taglib/fileref.h>
#include <taglib/tag.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

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

// An encoded demo track with title/artist tags.
void encoded(const std::string& wav, const std::string& out, const std::vector<std::string>& codec,
             const std::string& title = "Night Drive") {
    std::vector<std::string> argv = {"ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", wav};
    argv.insert(argv.end(), codec.begin(), codec.end());
    for (const std::string& kv : {"title=" + title, std::string("artist=Kay Lee"), std::string("album=Roads")}) {
        argv.push_back("-metadata");
        argv.push_back(kv);
    }
    argv.push_back(out);
    const auto r = test::run_command(argv);
    ASSERT_EQ(r.exit_code, 0) << r.err;
}

std::string demo(test::TempDir& dir, double seconds = 12.0) {
    const auto d = dsp::synth::make_demo_track(seconds, 124.0);
    const std::string wav = dir.file("src.wav");
    EXPECT_TRUE(io::write_wav16(wav, d.samples, 1, d.rate_hz).ok());
    return wav;
}

std::string attr(const std::string& xml, const std::string& element, const std::string& name) {
    std::smatch m;
    const std::regex re("<" + element + "[^>]* " + name + "=\"([^\"]*)\"");
    return std::regex_search(xml, m, re) ? m[1].str() : "<none>";
}

}  // namespace

TEST(CliDj, TagsAndGaplessOffsetReachRekordbox) {
    if (!test::have_program("ffmpeg")) GTEST_SKIP() << "ffmpeg CLI not installed";
    test::TempDir dir;
    const std::string wav = demo(dir);
    fs::create_directory(dir.file("in"));
    const std::string mp3 = dir.file("in/01 track.mp3");
    encoded(wav, mp3, {"-c:a", "libmp3lame", "-b:a", "192k"});
    const auto one = harmony_cmd({"analyze", mp3, "--no-library", "--only", "tempo,beats"});
    ASSERT_EQ(one.exit_code, 0) << one.err;
    const auto j = nlohmann::json::parse(one.out);  // piped: JSON
    EXPECT_EQ(j["audio"]["tags"]["title"], "Night Drive");
    EXPECT_EQ(j["audio"]["tags"]["artist"], "Kay Lee");
    EXPECT_EQ(j["audio"]["gapless_trim_frames"], 576 + 529);  // LAME's encoder delay + decoder delay
    const double first_beat = j["beats"]["grid"]["first_beat_s"];

    const auto r = harmony_cmd({"analyze", dir.file("in"), "--library", dir.file("lib.sqlite"), "--only", "tempo,beats",
                                "--export", "rekordbox"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(attr(r.out, "TRACK", "Name"), "Night Drive");
    EXPECT_EQ(attr(r.out, "TRACK", "Artist"), "Kay Lee");
    EXPECT_EQ(attr(r.out, "TRACK", "Album"), "Roads");
    EXPECT_NEAR(std::stod(attr(r.out, "TEMPO", "Inizio")), first_beat + 1105.0 / 44100.0, 0.0006);
    const auto nml = harmony_cmd(
        {"library", "export", "traktor", "--library", dir.file("lib.sqlite"), "--path-map", dir.file("in") + "=/USB"});
    ASSERT_EQ(nml.exit_code, 0) << nml.err;
    EXPECT_EQ(attr(nml.out, "ENTRY", "ARTIST"), "Kay Lee");
    EXPECT_EQ(attr(nml.out, "LOCATION", "DIR"), "/:USB/:");
    EXPECT_NEAR(std::stod(attr(nml.out, "CUE_V2", "START")),
                1000.0 * j["beats"]["grid"]["first_downbeat_s"].get<double>(), 0.001);
}

TEST(CliDj, TagEditsDoNotReanalyse) {
    if (!test::have_program("ffmpeg")) GTEST_SKIP() << "ffmpeg CLI not installed";
    test::TempDir dir;
    const std::string wav = demo(dir, 6.0);
    fs::create_directory(dir.file("in"));
    encoded(wav, dir.file("in/a.mp3"), {"-c:a", "libmp3lame", "-b:a", "128k"});
    encoded(wav, dir.file("in/b.flac"), {"-c:a", "flac"});
    encoded(wav, dir.file("in/c.ogg"), {"-c:a", "libvorbis"});
    encoded(wav, dir.file("in/d.m4a"), {"-c:a", "aac"});
    const std::string lib = dir.file("lib.sqlite");
    auto first = harmony_cmd({"analyze", dir.file("in"), "--library", lib, "--only", "loudness"});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    EXPECT_NE(first.err.find("4 analysed, 0 cached"), std::string::npos) << first.err;
    // Another tagger edits every title (longer text: tags grow, pages and atoms move).
    for (const char* f : {"in/a.mp3", "in/b.flac", "in/c.ogg", "in/d.m4a"}) {
        TagLib::FileRef ref(dir.file(f).c_str());
        ASSERT_FALSE(ref.isNull()) << f;
        ref.tag()->setTitle("A much longer title, edited in another tagger, with room to grow");
        ASSERT_TRUE(ref.save()) << f;
    }
    auto second = harmony_cmd({"analyze", dir.file("in"), "--library", lib, "--only", "loudness"});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_NE(second.err.find("0 analysed, 4 cached"), std::string::npos) << second.err;
    const auto dups = harmony_cmd({"library", "duplicates", "--library", lib});
    EXPECT_EQ(dups.exit_code, 0) << dups.err;
    EXPECT_NE(dups.err.find("0 group(s)"), std::string::npos);
}

TEST(CliDj, LibrarySortByKeyBpmMatchPruneAndSingleFileRuns) {
    test::TempDir dir;
    const std::string wav = demo(dir, 10.0);
    const std::string lib = dir.file("lib.sqlite");
    ::setenv("HARMONY_LIBRARY", lib.c_str(), 1);
    // A plain single-file run is recorded in the library.
    const auto one = harmony_cmd({"analyze", wav, "--only", "tempo,key"});
    ASSERT_EQ(one.exit_code, 0) << one.err;
    const auto list = harmony_cmd({"library", "list", "--sort", "key", "--json"});
    ASSERT_EQ(list.exit_code, 0) << list.err;
    const auto rows = nlohmann::json::parse(list.out);
    ASSERT_EQ(rows.size(), 1u);
    const double bpm = rows[0]["bpm"];
    EXPECT_EQ(harmony_cmd({"library", "list", "--sort", "key", "--desc"}).exit_code, 0);
    // "--bpm 124" matches what shows as 124.
    const std::string shown = std::to_string(static_cast<int>(std::lround(bpm)));
    const auto by_bpm = harmony_cmd({"library", "list", "--bpm", shown, "--json"});
    ASSERT_EQ(by_bpm.exit_code, 0) << by_bpm.err;
    EXPECT_EQ(nlohmann::json::parse(by_bpm.out).size(), 1u) << "bpm " << bpm << " vs --bpm " << shown;
    // Deleted: no longer listed; prune forgets it.
    fs::remove(wav);
    EXPECT_EQ(nlohmann::json::parse(harmony_cmd({"library", "list", "--json"}).out).size(), 0u);
    const auto prune = harmony_cmd({"library", "prune"});
    EXPECT_EQ(prune.exit_code, 0) << prune.err;
    EXPECT_NE(prune.err.find("forgot 1 missing file(s) and 1 analysis(es)"), std::string::npos) << prune.err;
    ::unsetenv("HARMONY_LIBRARY");
}

TEST(CliDj, LabExportWithoutChordsFailsOnceAndClearly) {
    test::TempDir dir;
    const std::string wav = demo(dir, 6.0);
    const auto r = harmony_cmd({"analyze", wav, "--no-library", "--export", "lab", "--only", "tempo"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("needs the 'chords' part"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("analysed"), std::string::npos) << "nothing should be analysed: " << r.err;
}

TEST(CliDj, FailedTagWritesAreCountedAndUnplayableFilesLeftOut) {
    if (!test::have_program("ffmpeg")) GTEST_SKIP() << "ffmpeg CLI not installed";
    test::TempDir dir;
    const std::string wav = demo(dir, 6.0);
    fs::create_directory(dir.file("in"));
    encoded(wav, dir.file("in/a.opus"), {"-c:a", "libopus"});
    encoded(wav, dir.file("in/b.mp3"), {"-c:a", "libmp3lame"});
    ::chmod(dir.file("in/b.mp3").c_str(), 0444);
    const auto r = harmony_cmd({"analyze", dir.file("in"), "--no-library", "--only", "tempo", "--write-tags",
                                "--export", "rekordbox", "-o", dir.file("rb.xml")});
    EXPECT_EQ(r.exit_code, 3) << r.err;  // a read-only file: permission error
    EXPECT_NE(r.err.find("0 failed, 1 tag write(s) failed"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("rekordbox cannot play opus"), std::string::npos) << r.err;
    const auto xml = test::read_file(dir.file("rb.xml"));
    EXPECT_NE(xml.find("b.mp3"), std::string::npos);
    EXPECT_EQ(xml.find("a.opus"), std::string::npos);
}
