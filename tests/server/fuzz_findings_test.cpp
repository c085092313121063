// Regressions of what the fuzz targets found (tests/fuzz; the inputs themselves are replayed by
// the fuzz_replay_* tests from tests/fuzz/regressions/).
#include <gtest/gtest.h>

#include <filesystem>

#include "server_harness.hpp"
#include "support/test_support.hpp"

namespace harmony::test {
namespace {

namespace fs = std::filesystem;

std::size_t files_in(const std::string& dir) {
    std::size_t n = 0;
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) ++n;
    return n;
}

// fuzz_http_request: a batch form whose "options" part is not JSON was refused (400), but the file
// parts after that part were never removed: each such request left part files in uploads/ for good.
TEST(FuzzFindings, RefusedBatchFormLeavesNoPartFiles) {
    TempDir d;
    Server s(d.file("data"));
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    const std::string b = "XyZ123";
    const std::string wav = make_wav_bytes(0.5, 41);
    const std::string body =
        "--" + b + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\n" + wav + "\r\n--" +
        b + "\r\nContent-Disposition: form-data; name=\"options\"\r\n\r\n{not json" + "\r\n--" + b +
        "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.wav\"\r\n\r\n" + wav + "\r\n--" + b + "--\r\n";
    for (int i = 0; i < 3; ++i) {
        auto r = c.Post("/v1/batches", body, "multipart/form-data; boundary=" + b);
        ASSERT_TRUE(r) << s.log();
        EXPECT_EQ(r->status, 400) << r->body;
    }
    EXPECT_EQ(files_in(s.data_dir() + "/uploads"), 0u) << "part files left behind by refused forms";
    EXPECT_EQ(files_in(s.data_dir() + "/audio"), 0u);
}

// fuzz_http_request: routes ignored the first character of the path, so "POST .v1/batches" was
// taken for "POST /v1/batches" without being treated as an upload (no body file): 500
// "cannot read the upload". A path must start with '/'.
TEST(FuzzFindings, APathNotStartingWithSlashMatchesNoRoute) {
    TempDir d;
    Server s(d.file("data"));
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    const std::string b = "XyZ123";
    const std::string body = "--" + b +
                             "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\n" +
                             make_wav_bytes(0.5, 42) + "\r\n--" + b + "--\r\n";
    for (const char* path : {".v1/batches", "x/v1/batches", "xv1/jobs"}) {
        auto r = c.Post(path, body, "multipart/form-data; boundary=" + b);
        ASSERT_TRUE(r) << path << "\n" << s.log();
        EXPECT_EQ(r->status, 404) << path << ": " << r->body;
    }
    for (const char* path : {"xhealth", ".v1/jobs/abc"}) {
        auto r = c.Get(path);
        ASSERT_TRUE(r) << path;
        EXPECT_EQ(r->status, 404) << path << ": " << r->body;
    }
    auto ok = c.Post("/v1/batches", body, "multipart/form-data; boundary=" + b);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 202) << ok->body;
}

}  // namespace
}  // namespace harmony::test
