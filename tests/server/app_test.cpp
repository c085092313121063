// The web app served by `harmony serve` (embedded at build time, same origin as the API), the
// multi-job export the app's library uses (POST /v1/exports/{format}) and `harmony app`.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "server_harness.hpp"
#include "shared_server.hpp"
#include "support/test_support.hpp"

namespace harmony::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string read_all(const std::string& path) {
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

class AppTest : public SharedServerTest<AppTest> {
public:
    static std::vector<std::string> server_args() { return {"--jobs", "2"}; }
};

TEST_F(AppTest, PageAndAssetsFromTheSameOrigin) {
    auto c = server_->client();
    auto page = c.Get("/");
    ASSERT_TRUE(page);
    ASSERT_EQ(page->status, 200);
    EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
    const auto csp = page->get_header_value("Content-Security-Policy");
    EXPECT_NE(csp.find("default-src 'self'"), std::string::npos) << csp;
    EXPECT_NE(csp.find("connect-src 'self'"), std::string::npos) << csp;
    EXPECT_EQ(page->get_header_value("X-Frame-Options"), "DENY");
    EXPECT_EQ(c.Get("/index.html")->body, page->body);
    if (!HARMONY_APP_EMBEDDED) {
        EXPECT_NE(page->body.find("built without the web app"), std::string::npos);
        GTEST_SKIP() << "the web app was not built into this binary (node/npm absent at build time)";
    }
    EXPECT_NE(page->body.find("<div id=\"root\">"), std::string::npos);
    // Nothing from another origin: every script and style is a /assets/ path of this server.
    EXPECT_EQ(page->body.find("http://"), std::string::npos);
    EXPECT_EQ(page->body.find("https://"), std::string::npos);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(page->body, m, std::regex("src=\"(/assets/[^\"]+\\.js)\""))) << page->body;
    auto js = c.Get(m[1].str().c_str());
    ASSERT_TRUE(js);
    EXPECT_EQ(js->status, 200);
    EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
    EXPECT_EQ(js->get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
    EXPECT_GT(js->body.size(), 10000u);
    auto head = c.Head(m[1].str().c_str());
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200);
    EXPECT_TRUE(head->body.empty());
    // The API keeps its own rules: JSON answers are not cached; unknown paths are problems.
    EXPECT_EQ(c.Get("/health")->get_header_value("Cache-Control"), "no-store");
    auto missing = c.Get("/assets/nope.js");
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 404);
    EXPECT_EQ(missing->get_header_value("Content-Type"), "application/problem+json");
    // Files are read-only: another method is not routed to them.
    EXPECT_EQ(c.Post("/", "x", "text/plain")->status, 404);
}

TEST_F(AppTest, ForeignOriginIsRefusedEvenForThePage) {
    auto c = server_->client();
    auto r = c.Get("/", {{"Origin", "http://evil.example"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403);
    auto same = c.Get("/", {{"Origin", server_->base()}});
    ASSERT_TRUE(same);
    EXPECT_EQ(same->status, 200);
}

TEST(AppToken, PageIsPublicApiIsNot) {
    TempDir dir;
    Server s(dir.file("data"), {"--token", "t0ken-0123456789abc"});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    EXPECT_EQ(c.Get("/")->status, 200);
    EXPECT_EQ(c.Get("/v1/jobs/x")->status, 401);
    EXPECT_EQ(c.Post("/v1/exports/csv", R"({"jobs":["x"]})", "application/json")->status, 401);
}

TEST_F(AppTest, ExportSeveralJobsInOneFile) {
    auto c = server_->client();
    std::vector<std::string> ids;
    for (int seed = 21; seed <= 22; ++seed) {
        auto r = post_audio(c, make_wav_bytes(6.0, seed), "?filename=track" + std::to_string(seed) + ".wav");
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, 202) << r->body;
        ids.push_back(json::parse(r->body)["id"]);
    }
    for (const auto& id : ids) ASSERT_EQ(wait_job(c, id)["status"], "succeeded");
    const std::string body = json{{"jobs", ids}}.dump();
    auto xml = c.Post("/v1/exports/rekordbox?key_notation=camelot", body, "application/json");
    ASSERT_TRUE(xml);
    ASSERT_EQ(xml->status, 200) << xml->body;
    EXPECT_EQ(xml->get_header_value("Content-Disposition"), "attachment; filename=\"harmony-collection.xml\"");
    std::size_t tracks = 0;
    for (std::size_t p = 0; (p = xml->body.find("<TRACK TrackID=", p)) != std::string::npos; ++p) ++tracks;
    EXPECT_EQ(tracks, 2u) << xml->body;
    EXPECT_NE(xml->body.find("<COLLECTION Entries=\"2\">"), std::string::npos);
    EXPECT_NE(xml->body.find("track21.wav"), std::string::npos);
    EXPECT_NE(xml->body.find("track22.wav"), std::string::npos);
    auto m3u = c.Post("/v1/exports/m3u", body, "application/json");
    ASSERT_TRUE(m3u);
    EXPECT_EQ(m3u->status, 200);
    EXPECT_EQ(m3u->body.rfind("#EXTM3U", 0), 0u) << m3u->body;

    auto status = [&](const std::string& path, const std::string& b, const std::string& type = "application/json") {
        auto r = c.Post(path.c_str(), b, type.c_str());
        return r ? r->status : -1;
    };
    EXPECT_EQ(status("/v1/exports/nosuch", body), 404);
    EXPECT_EQ(status("/v1/exports/csv", R"({"jobs":[]})"), 400);
    EXPECT_EQ(status("/v1/exports/csv", R"({"jobs":[1]})"), 400);
    EXPECT_EQ(status("/v1/exports/csv", R"({"jobs":["a"],"more":1})"), 400);
    EXPECT_EQ(status("/v1/exports/csv", "not json"), 400);
    EXPECT_EQ(status("/v1/exports/csv", body, "text/plain"), 415);
    EXPECT_EQ(status("/v1/exports/csv?key_notation=roman", body), 400);
    EXPECT_EQ(status("/v1/exports/csv", json{{"jobs", {ids[0], "doesnotexist"}}}.dump()), 404);
    // A job that failed has no result to export.
    auto bad = post_audio(c, "this is not audio at all", "?filename=bad.wav", "application/octet-stream");
    ASSERT_TRUE(bad);
    const std::string bad_id = json::parse(bad->body)["id"];
    const auto failed = wait_job(c, bad_id);
    ASSERT_EQ(failed["status"], "failed");
    // The error names the upload, not where the server keeps it.
    const std::string detail = failed["error"]["detail"];
    EXPECT_NE(detail.find("bad.wav"), std::string::npos) << detail;
    EXPECT_EQ(detail.find(server_->data_dir()), std::string::npos) << detail;
    EXPECT_EQ(status("/v1/exports/csv", json{{"jobs", {ids[0], bad_id}}}.dump()), 409);
}

TEST(AppCommand, StartsAServerAndPrintsTheUrl) {
    TempDir dir;
    const auto port_file = dir.file("port"), log = dir.file("app.log");
    Child app({harmony_bin(), "app", "--no-browser", "--port", "0", "--port-file", port_file, "--data-dir",
               dir.file("data"), "--jobs", "1"},
              log);
    int port = 0;
    for (int i = 0; i < 200 && port == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (fs::exists(port_file)) std::ifstream(port_file) >> port;
    }
    ASSERT_GT(port, 0) << read_all(log);
    httplib::Client c("127.0.0.1", port);
    auto page = c.Get("/");
    ASSERT_TRUE(page);
    EXPECT_EQ(page->status, 200);
    for (int i = 0; i < 50 && read_all(log).find("http://127.0.0.1:") == std::string::npos; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_NE(read_all(log).find("http://127.0.0.1:" + std::to_string(port) + "/"), std::string::npos) << read_all(log);

    // A second `harmony app` finds this service, prints its URL and exits at once.
    const auto log2 = dir.file("app2.log");
    Child again({harmony_bin(), "app", "--no-browser", "--port", std::to_string(port)}, log2);
    const auto code = again.wait_exit(10000);
    ASSERT_TRUE(code.has_value()) << read_all(log2);
    EXPECT_EQ(*code, 0);
    EXPECT_NE(read_all(log2).find("already running"), std::string::npos) << read_all(log2);
    EXPECT_NE(read_all(log2).find("http://127.0.0.1:" + std::to_string(port) + "/"), std::string::npos);
    EXPECT_EQ(app.terminate(), 0);
}

}  // namespace
}  // namespace harmony::test
