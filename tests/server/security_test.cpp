// Security: bearer token beyond loopback, server-side file reads confined to --file-root (path
// traversal, symlinks), CORS only for the configured origin.
#include <gtest/gtest.h>

#include <filesystem>

#include "server_harness.hpp"
#include "support/test_support.hpp"

namespace harmony::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

TEST(Security, BindingBeyondLoopbackRequiresAToken) {
    TempDir d;
    const auto r =
        run_command({harmony_bin(), "serve", "--bind", "0.0.0.0", "--port", "0", "--data-dir", d.file("data")}, 20);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("token"), std::string::npos);
}

TEST(Security, TokenIsEnforcedOnTheApi) {
    TempDir d;
    Server s(d.file("data"), {"--bind", "0.0.0.0", "--token", "s3cret-token"});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    EXPECT_EQ(c.Get("/health")->status, 200);  // probes stay open
    auto no = c.Get("/v1/jobs/x");
    ASSERT_TRUE(no);
    EXPECT_EQ(no->status, 401);
    EXPECT_EQ(no->get_header_value("WWW-Authenticate").rfind("Bearer", 0), 0u);
    EXPECT_EQ(c.Get("/v1/jobs/x", {{"Authorization", "Bearer wrong-token!"}})->status, 401);
    EXPECT_EQ(c.Get("/v1/jobs/x", {{"Authorization", "Bearer s3cret-token"}})->status, 404);
    auto r = c.Post("/v1/jobs", {{"Authorization", "Bearer s3cret-token"}}, make_wav_bytes(1.0, 300), "audio/wav");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 202);
    std::vector<std::string> msgs;
    const std::string id = json::parse(r->body)["id"];
    EXPECT_EQ(websocket_collect(s.port(), "/v1/jobs/" + id + "/events", msgs, 5000), 401);
    EXPECT_EQ(websocket_collect(s.port(), "/v1/jobs/" + id + "/events?access_token=s3cret-token", msgs, 30000), 101);
}

TEST(Security, FileReadsAreOffByDefault) {
    TempDir d;
    Server s(d.file("data"));
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    write_file(d.file("x.wav"), make_wav_bytes(1.0, 301));
    auto r = c.Post("/v1/jobs", json{{"source", {{"path", d.file("x.wav")}}}}.dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403) << r->body;
}

TEST(Security, FileReadsAreConfinedToTheRoot) {
    TempDir d;
    fs::create_directories(d.file("root/music"));
    write_file(d.file("root/music/ok.wav"), make_wav_bytes(1.0, 302));
    write_file(d.file("secret.wav"), make_wav_bytes(1.0, 303));
    fs::create_symlink(d.file("secret.wav"), d.file("root/music/escape.wav"));
    Server s(d.file("data"), {"--file-root", d.file("root")});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    auto post = [&](const std::string& p) {
        return c.Post("/v1/jobs", json{{"source", {{"path", p}}}, {"only", {"loudness"}}}.dump(), "application/json");
    };
    auto ok = post("music/ok.wav");
    ASSERT_TRUE(ok);
    ASSERT_EQ(ok->status, 202) << ok->body;
    EXPECT_EQ(wait_job(c, json::parse(ok->body)["id"])["status"], "succeeded");
    EXPECT_TRUE(fs::exists(d.file("root/music/ok.wav")));  // server-side files are never removed
    const std::vector<std::string> bad_paths = {"../secret.wav",      "music/../../secret.wav",
                                                d.file("secret.wav"), "music/escape.wav",
                                                "/etc/passwd",        "music/%2e%2e/%2e%2e/secret.wav"};
    for (const auto& bad : bad_paths) {
        auto r = post(bad);
        ASSERT_TRUE(r);
        EXPECT_TRUE(r->status == 403 || r->status == 404) << bad << " -> " << r->status << " " << r->body;
        EXPECT_NE(r->status, 202) << bad;
    }
    EXPECT_EQ(post("music/missing.wav")->status, 404);
    // Batches follow the same rule, and are refused whole.
    auto b = c.Post(
        "/v1/batches",
        json{{"jobs", {{{"source", {{"path", "music/ok.wav"}}}}, {{"source", {{"path", "../secret.wav"}}}}}}}.dump(),
        "application/json");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->status, 403) << b->body;
}

TEST(Security, CorsOnlyForTheUiOrigin) {
    TempDir d;
    Server s(d.file("data"), {"--cors-origin", "http://localhost:5173"});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    auto good = c.Get("/v1/jobs/x", {{"Origin", "http://localhost:5173"}});
    ASSERT_TRUE(good);
    EXPECT_EQ(good->status, 404);
    EXPECT_EQ(good->get_header_value("Access-Control-Allow-Origin"), "http://localhost:5173");
    auto pre = c.Options("/v1/jobs", {{"Origin", "http://localhost:5173"}, {"Access-Control-Request-Method", "POST"}});
    ASSERT_TRUE(pre);
    EXPECT_EQ(pre->status, 204);
    EXPECT_EQ(pre->get_header_value("Access-Control-Allow-Origin"), "http://localhost:5173");
    EXPECT_NE(pre->get_header_value("Access-Control-Allow-Methods").find("POST"), std::string::npos);
    // Any other origin: refused outright (a foreign page cannot submit jobs or read results).
    auto evil = c.Post("/v1/jobs", {{"Origin", "http://evil.example"}}, make_wav_bytes(1.0, 304), "audio/wav");
    ASSERT_TRUE(evil);
    EXPECT_EQ(evil->status, 403);
    EXPECT_TRUE(evil->get_header_value("Access-Control-Allow-Origin").empty());
    auto evil_pre =
        c.Options("/v1/jobs", {{"Origin", "http://evil.example"}, {"Access-Control-Request-Method", "POST"}});
    ASSERT_TRUE(evil_pre);
    EXPECT_EQ(evil_pre->status, 403);
    std::vector<std::string> msgs;
    EXPECT_EQ(websocket_collect(s.port(), "/v1/jobs/x/events", msgs, 5000, "http://evil.example"), 403);
    // No Origin (curl, scripts): no CORS headers.
    EXPECT_TRUE(c.Get("/health")->get_header_value("Access-Control-Allow-Origin").empty());
}

}  // namespace
}  // namespace harmony::test
