// Bad input through the real binary: a clear one-line error, a documented exit code, never a crash,
// a hang or a signal death; and in a multi-file run a bad file never stops the others.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <nlohmann/json.hpp>
#include <random>

#include "dsp/synth.hpp"
#include "io/wav_writer.hpp"
#include "support/test_support.hpp"

using namespace harmony;

namespace {

constexpr int kInputError = 3;
constexpr int kPartial = 4;
constexpr int kOutputError = 5;
constexpr int kUsage = 2;

test::CommandResult harmony_cmd(std::vector<std::string> args, int timeout_s = 120) {
    args.insert(args.begin(), HARMONY_BIN);
    return test::run_command(args, timeout_s);
}

size_t count_lines(const std::string& s) {
    size_t n = 0;
    for (char c : s) n += (c == '\n');
    return n;
}

void expect_clean_error(const test::CommandResult& r, int code, const std::string& needle) {
    EXPECT_EQ(r.signal, 0) << "killed by signal";
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_EQ(count_lines(r.err), 1u) << "one-line error expected, got: " << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
}

std::string demo_wav(const test::TempDir& dir, const std::string& name, double seconds = 4.0) {
    const auto d = dsp::synth::make_demo_track(seconds);
    const auto path = dir.file(name);
    EXPECT_TRUE(io::write_wav16(path, d.samples, 1, d.rate_hz).ok());
    return path;
}

std::string ffmpeg_encode(const std::string& src, const std::string& dst, std::vector<std::string> codec) {
    std::vector<std::string> argv = {"ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", src};
    argv.insert(argv.end(), codec.begin(), codec.end());
    argv.push_back(dst);
    EXPECT_EQ(test::run_command(argv).exit_code, 0);
    return dst;
}

}  // namespace

TEST(CliBadInput, MissingFile) {
    expect_clean_error(harmony_cmd({"analyze", "/nonexistent/track.mp3"}), kInputError, "no such file");
}

TEST(CliBadInput, Directory) {
    test::TempDir dir;
    expect_clean_error(harmony_cmd({"analyze", dir.path()}), kInputError, "directory");
}

TEST(CliBadInput, NoPermission) {
    test::TempDir dir;
    const auto path = demo_wav(dir, "locked.wav", 1.0);
    std::filesystem::permissions(path, std::filesystem::perms::none);
    if (geteuid() == 0) {
        // root reads everything: drop to nobody for this check when setpriv is available.
        if (!test::have_program("setpriv")) GTEST_SKIP() << "running as root without setpriv";
        const auto r = test::run_command(
            {"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", HARMONY_BIN, "analyze", path});
        expect_clean_error(r, kInputError, "permission denied");
    } else {
        expect_clean_error(harmony_cmd({"analyze", path}), kInputError, "permission denied");
    }
}

TEST(CliBadInput, EmptyFile) {
    test::TempDir dir;
    test::write_file(dir.file("empty.mp3"), "");
    expect_clean_error(harmony_cmd({"analyze", dir.file("empty.mp3")}), kInputError, "empty file");
}

TEST(CliBadInput, RandomBytes) {
    test::TempDir dir;
    std::mt19937 rng(42);
    for (int i = 0; i < 5; ++i) {
        std::string bytes(1 << 16, '\0');
        for (auto& c : bytes) c = static_cast<char>(rng());
        const auto path = dir.file("random" + std::to_string(i) + ".mp3");
        test::write_file(path, bytes);
        const auto r = harmony_cmd({"analyze", path});
        EXPECT_EQ(r.signal, 0);
        EXPECT_EQ(r.exit_code, kInputError) << r.err;
        EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    }
}

TEST(CliBadInput, TextFile) {
    test::TempDir dir;
    test::write_file(dir.file("notes.txt"), "This is not audio.\nJust some text.\n");
    const auto r = harmony_cmd({"analyze", dir.file("notes.txt")});
    EXPECT_EQ(r.signal, 0);
    EXPECT_EQ(r.exit_code, kInputError) << r.err;
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
}

TEST(CliBadInput, ImageFile) {
    if (!test::have_program("ffmpeg")) GTEST_SKIP() << "ffmpeg CLI not installed";
    test::TempDir dir;
    const auto png = dir.file("cover.png");
    ASSERT_EQ(test::run_command({"ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=red:s=64x64",
                                 "-frames:v", "1", png})
                  .exit_code,
              0);
    expect_clean_error(harmony_cmd({"analyze", png}), kInputError, "no audio stream");
}

TEST(CliBadInput, TruncatedFilesDecodeWhatIsReadableAndSaySo) {
    if (!test::have_program("ffmpeg")) GTEST_SKIP() << "ffmpeg CLI not installed";
    test::TempDir dir;
    const auto src = demo_wav(dir, "src.wav", 8.0);
    const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
        {"cut.wav", {"-c:a", "pcm_s16le"}},
        {"cut.flac", {"-c:a", "flac"}},
        {"cut.mp3", {"-c:a", "libmp3lame", "-b:a", "192k"}},
    };
    for (const auto& [name, codec] : cases) {
        const auto full = ffmpeg_encode(src, dir.file("full_" + name), codec);
        const std::string bytes = test::read_file(full);
        test::write_file(dir.file(name), bytes.substr(0, bytes.size() / 2));
        const auto r = harmony_cmd({"analyze", "--only", "loudness", dir.file(name)});
        EXPECT_EQ(r.signal, 0);
        EXPECT_EQ(r.exit_code, kPartial) << name << ": " << r.err;
        EXPECT_NE(r.err.find("truncated"), std::string::npos) << name << ": " << r.err;
        const auto j = nlohmann::json::parse(r.out, nullptr, false);
        ASSERT_FALSE(j.is_discarded()) << name;
        EXPECT_TRUE(j["audio"]["truncated"].get<bool>());
        EXPECT_NEAR(j["audio"]["duration_s"].get<double>(), 4.0, 0.6) << name;
    }
}

TEST(CliBadInput, CorruptedFlacSkipsDamagedFrames) {
    if (!test::have_program("ffmpeg")) GTEST_SKIP() << "ffmpeg CLI not installed";
    test::TempDir dir;
    const auto flac = ffmpeg_encode(demo_wav(dir, "src.wav", 8.0), dir.file("x.flac"), {"-c:a", "flac"});
    std::string bytes = test::read_file(flac);
    std::mt19937 rng(7);
    for (size_t i = bytes.size() / 3; i < bytes.size() / 3 + 20000; ++i) bytes[i] = static_cast<char>(rng());
    test::write_file(dir.file("corrupt.flac"), bytes);
    const auto r = harmony_cmd({"analyze", "--only", "loudness", dir.file("corrupt.flac")});
    EXPECT_EQ(r.signal, 0);
    EXPECT_EQ(r.exit_code, kPartial) << r.err;
    EXPECT_NE(r.err.find("corrupt"), std::string::npos) << r.err;
    const auto j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded());
    EXPECT_GT(j["audio"]["duration_s"].get<double>(), 4.0);
}

TEST(CliBadInput, CorruptedMp3NeverCrashes) {
    if (!test::have_program("ffmpeg")) GTEST_SKIP() << "ffmpeg CLI not installed";
    test::TempDir dir;
    const auto mp3 = ffmpeg_encode(demo_wav(dir, "src.wav", 8.0), dir.file("x.mp3"), {"-c:a", "libmp3lame"});
    std::string bytes = test::read_file(mp3);
    std::mt19937 rng(9);
    for (size_t i = bytes.size() / 4; i < bytes.size() / 2; i += 97) bytes[i] = static_cast<char>(rng());
    test::write_file(dir.file("corrupt.mp3"), bytes);
    const auto r = harmony_cmd({"analyze", dir.file("corrupt.mp3")});
    EXPECT_EQ(r.signal, 0);
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == kPartial) << r.exit_code << ": " << r.err;
}

TEST(CliBadInput, ZeroLengthAudio) {
    test::TempDir dir;
    ASSERT_TRUE(io::write_wav16(dir.file("zero.wav"), {}, 2, 44100).ok());
    expect_clean_error(harmony_cmd({"analyze", dir.file("zero.wav")}), kInputError, "no samples");
}

TEST(CliBadInput, OneSampleAudioGivesAMapNotACrash) {
    test::TempDir dir;
    ASSERT_TRUE(io::write_wav16(dir.file("one.wav"), {0.5f}, 1, 44100).ok());
    const auto r = harmony_cmd({"analyze", dir.file("one.wav")});
    EXPECT_EQ(r.signal, 0);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.out;
    EXPECT_NEAR(j["audio"]["duration_s"].get<double>(), 1.0 / 44100, 1e-9);
}

TEST(CliBadInput, PureSilenceIsAValidAnswer) {
    test::TempDir dir;
    ASSERT_TRUE(io::write_wav16(dir.file("silence.wav"), std::vector<float>(44100 * 5, 0.0f), 1, 44100).ok());
    const auto r = harmony_cmd({"analyze", dir.file("silence.wav")});
    EXPECT_EQ(r.signal, 0);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded());
    EXPECT_TRUE(j["loudness"]["silent"].get<bool>());
    if (j.contains("tempo")) {
        EXPECT_TRUE(j["tempo"]["bpm"].is_null());
    }
    if (j.contains("key")) {
        EXPECT_TRUE(j["key"]["key"].is_null());
    }
}

TEST(CliBadInput, UnicodeAndSpacesInPaths) {
    test::TempDir dir;
    std::filesystem::create_directories(dir.file("Müsik & Sounds/日本語 フォルダ"));
    const auto path = demo_wav(dir, "Müsik & Sounds/日本語 フォルダ/Café del Mar — ünïcödé 01.wav", 3.0);
    const auto r = harmony_cmd({"analyze", "--only", "loudness", path});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded());
    EXPECT_EQ(j["audio"]["path"].get<std::string>(), path);
}

TEST(CliBadInput, ABadFileNeverStopsTheOthers) {
    test::TempDir dir;
    const auto a = demo_wav(dir, "a.wav", 2.0);
    const auto b = demo_wav(dir, "b.wav", 2.0);
    test::write_file(dir.file("bad.mp3"), "garbage");
    const auto r = harmony_cmd({"analyze", "--only", "loudness", a, dir.file("missing.wav"), dir.file("bad.mp3"), b});
    EXPECT_EQ(r.signal, 0);
    EXPECT_EQ(r.exit_code, kInputError);
    EXPECT_EQ(count_lines(r.out), 2u) << "two Song Maps, one per line";
    EXPECT_EQ(count_lines(r.err), 2u) << r.err;
    const auto out_dir = dir.file("out");
    const auto r2 = harmony_cmd({"analyze", "--only", "loudness", a, dir.file("missing.wav"), b, "-o", out_dir});
    EXPECT_EQ(r2.exit_code, kInputError);
    EXPECT_TRUE(std::filesystem::exists(out_dir + "/a.json"));
    EXPECT_TRUE(std::filesystem::exists(out_dir + "/b.json"));
}

TEST(CliBadInput, UnwritableOutput) {
    test::TempDir dir;
    const auto a = demo_wav(dir, "a.wav", 1.0);
    const auto r = harmony_cmd({"analyze", "--only", "loudness", a, "-o", "/nonexistent-dir/out.json"});
    EXPECT_EQ(r.exit_code, kOutputError) << r.err;
}

TEST(CliBadInput, UsageErrors) {
    EXPECT_EQ(harmony_cmd({"analyze", "--only", "nope", "x.wav"}).exit_code, kUsage);
    EXPECT_EQ(harmony_cmd({"analyze", "--param", "loudness.x=1", "x.wav"}).exit_code, kUsage);
    EXPECT_EQ(harmony_cmd({"frobnicate"}).exit_code, kUsage);
    EXPECT_EQ(harmony_cmd({}).exit_code, kUsage);
    const auto v = harmony_cmd({"--version"});
    EXPECT_EQ(v.exit_code, 0);
    EXPECT_NE(v.out.find("harmony "), std::string::npos);
}

// `-o` naming a device or FIFO is written to, not replaced: the output was written to a temporary
// file renamed over the destination, so as root `harmony analyze F -o /dev/null` turned /dev/null
// into a regular file (found when the benchmark scripts broke the machine's /dev/null). A FIFO
// stands in for the device here; a symlinked output is written through, the link kept.
TEST(CliOutput, DevicesAndFifosAreWrittenNotReplaced) {
    test::TempDir dir;
    const auto wav = demo_wav(dir, "x.wav", 3.0);
    const auto fifo = dir.file("out.fifo");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    std::string got;
    std::thread reader([&] {
        std::ifstream in(fifo);
        got.assign(std::istreambuf_iterator<char>(in), {});
    });
    const auto r = harmony_cmd({"analyze", wav, "--only", "loudness", "-o", fifo});
    if (r.exit_code != 0) {  // unblock the reader
        std::ofstream unblock(fifo);
    }
    reader.join();
    EXPECT_EQ(r.exit_code, 0) << r.err;
    struct stat st {};
    ASSERT_EQ(::lstat(fifo.c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the FIFO was replaced";
    EXPECT_NE(got.find("\"loudness\""), std::string::npos) << got;

    const auto real = dir.file("real.json"), link = dir.file("link.json");
    { std::ofstream(real) << "old"; }
    std::filesystem::create_symlink(real, link);
    EXPECT_EQ(harmony_cmd({"analyze", wav, "--only", "loudness", "-o", link}).exit_code, 0);
    EXPECT_TRUE(std::filesystem::is_symlink(link)) << "the symlink was replaced by a file";
    EXPECT_NE(test::read_file(real).find("\"loudness\""), std::string::npos);
}
