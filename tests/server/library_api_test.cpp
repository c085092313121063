// What the web app needs beyond jobs: the CLI's track library read-only (GET /v1/library,
// GET /v1/library/tracks/{content_hash}) and re-analysis that bypasses the result store
// (refresh on POST /v1/jobs).
#include <gtest/gtest.h>

#include <filesystem>

#include "server_harness.hpp"
#include "support/test_support.hpp"

namespace harmony::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class LibraryApiTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir();
        // Two tracks analysed by the CLI into a library, as a user would before opening the app.
        lib_ = dir_->file("lib.sqlite");
        write_file(dir_->file("slow.wav"), make_wav_bytes(6.0, 11));
        write_file(dir_->file("fast.wav"), make_wav_bytes(6.0, 12));
        auto r = run_command({harmony_bin(), "analyze", dir_->file("slow.wav"), dir_->file("fast.wav"), "--library",
                              lib_, "--only", "tempo,beats,key,loudness"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        server_ = new Server(dir_->file("data"), {"--jobs", "1", "--library", lib_});
        ASSERT_TRUE(server_->start()) << server_->log();
    }
    static void TearDownTestSuite() {
        delete server_;
        delete dir_;
    }
    static TempDir* dir_;
    static Server* server_;
    static std::string lib_;
};
TempDir* LibraryApiTest::dir_ = nullptr;
Server* LibraryApiTest::server_ = nullptr;
std::string LibraryApiTest::lib_;

TEST_F(LibraryApiTest, ListsTheCliLibraryWithEnergyAndServesEachSongMap) {
    auto c = server_->client();
    auto r = c.Get("/v1/library?sort=path");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const auto j = json::parse(r->body);
    ASSERT_EQ(j["count"], 2);
    ASSERT_EQ(j["tracks"].size(), 2u);
    EXPECT_EQ(fs::path(j["tracks"][0]["path"].get<std::string>()).filename(), "fast.wav");
    EXPECT_EQ(fs::path(j["tracks"][1]["path"].get<std::string>()).filename(), "slow.wav");
    for (const auto& t : j["tracks"]) {
        EXPECT_EQ(t["content_hash"].get<std::string>().rfind("xxh128:", 0), 0u) << t;
        EXPECT_NEAR(t["duration_s"].get<double>(), 6.0, 0.05);
        ASSERT_TRUE(t["integrated_lufs"].is_number()) << t;
        ASSERT_TRUE(t["energy"].is_number_integer()) << t;  // the exporters' 1-10 rating
        EXPECT_GE(t["energy"].get<int>(), 1);
        EXPECT_LE(t["energy"].get<int>(), 10);
        // The Song Map behind the row: the same BPM, key and duration.
        auto m = c.Get(t["links"]["song_map"].get<std::string>().c_str());
        ASSERT_TRUE(m);
        ASSERT_EQ(m->status, 200) << m->body;
        const auto map = json::parse(m->body);
        EXPECT_EQ(map["audio"]["content_hash"], t["content_hash"]);
        ASSERT_TRUE(t["bpm"].is_number()) << t;
        EXPECT_DOUBLE_EQ(map["tempo"]["bpm"].get<double>(), t["bpm"].get<double>());
        if (!t["camelot"].get<std::string>().empty()) {
            EXPECT_EQ(map["key"]["camelot"], t["camelot"]);
        }
    }
    // Sorting descending reverses; filters narrow; bad parameters are refused in words.
    auto d = json::parse(c.Get("/v1/library?sort=path&order=desc")->body);
    EXPECT_EQ(d["tracks"][0]["content_hash"], j["tracks"][1]["content_hash"]);
    EXPECT_EQ(json::parse(c.Get("/v1/library?q=slow")->body)["count"], 1);
    EXPECT_EQ(json::parse(c.Get("/v1/library?bpm_min=400")->body)["count"], 0);
    EXPECT_EQ(json::parse(c.Get("/v1/library?limit=1")->body)["count"], 1);
    EXPECT_EQ(c.Get("/v1/library?bpm_min=fast")->status, 400);
    EXPECT_EQ(c.Get("/v1/library?sort=colour")->status, 400);
    EXPECT_EQ(c.Get("/v1/library?key=H7")->status, 400);
    EXPECT_EQ(c.Get("/v1/library?order=up")->status, 400);
    EXPECT_EQ(c.Get("/v1/library?nope=1")->status, 400);
    auto missing = c.Get("/v1/library/tracks/xxh128:0000");
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 404);
    EXPECT_NE(missing->body.find("track-not-found"), std::string::npos);
    // Read-only: the routes take GET only.
    EXPECT_EQ(c.Delete("/v1/library")->status, 405);
    EXPECT_EQ(c.Post("/v1/library", "{}", "application/json")->status, 405);
}

TEST_F(LibraryApiTest, NoLibraryIsA404InWordsAndNothingIsCreated) {
    TempDir d;
    const auto absent = d.file("none/lib.sqlite");
    Server s(d.file("data"), {"--jobs", "1", "--library", absent});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    auto r = c.Get("/v1/library");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404);
    EXPECT_NE(r->body.find("library-not-found"), std::string::npos) << r->body;
    EXPECT_NE(r->body.find("harmony analyze"), std::string::npos) << r->body;
    EXPECT_FALSE(fs::exists(absent));  // a read-only view creates no database

    Server off(d.file("data2"), {"--jobs", "1", "--library", "none"});
    ASSERT_TRUE(off.start()) << off.log();
    auto o = off.client().Get("/v1/library");
    ASSERT_TRUE(o);
    EXPECT_EQ(o->status, 404);
    EXPECT_NE(o->body.find("--library"), std::string::npos) << o->body;
}

TEST_F(LibraryApiTest, RefreshAnalysesAgainInsteadOfAnsweringFromTheStore) {
    auto c = server_->client();
    const auto wav = make_wav_bytes(4.0, 21);
    auto first = post_audio(c, wav, "?only=tempo,loudness");
    ASSERT_TRUE(first);
    ASSERT_EQ(first->status, 202) << first->body;
    const auto j1 = wait_job(c, json::parse(first->body)["id"]);
    ASSERT_EQ(j1["status"], "succeeded") << j1;
    EXPECT_FALSE(j1["refresh"].get<bool>());
    const auto analyses = json::parse(c.Get("/health")->body)["analyses"].get<int>();

    // The same upload again: answered from the result store, no analysis.
    auto again = json::parse(post_audio(c, wav, "?only=tempo,loudness")->body);
    EXPECT_EQ(again["status"], "succeeded");
    EXPECT_TRUE(again["cached"].get<bool>());
    EXPECT_EQ(json::parse(c.Get("/health")->body)["analyses"].get<int>(), analyses);

    // With refresh: a new analysis (not cached), twice in a row, each one counted.
    for (int i = 1; i <= 2; ++i) {
        auto fresh = post_audio(c, wav, "?only=tempo,loudness&refresh=1");
        ASSERT_TRUE(fresh);
        ASSERT_EQ(fresh->status, 202) << fresh->body;
        const auto fj = json::parse(fresh->body);
        EXPECT_FALSE(fj["cached"].get<bool>());
        EXPECT_TRUE(fj["refresh"].get<bool>());
        const auto done = wait_job(c, fj["id"]);
        ASSERT_EQ(done["status"], "succeeded") << done;
        EXPECT_FALSE(done["cached"].get<bool>());
        EXPECT_EQ(json::parse(c.Get("/health")->body)["analyses"].get<int>(), analyses + i);
        const auto m1 = json::parse(c.Get(("/v1/jobs/" + j1["id"].get<std::string>() + "/result").c_str())->body);
        const auto m2 = json::parse(c.Get(("/v1/jobs/" + fj["id"].get<std::string>() + "/result").c_str())->body);
        EXPECT_EQ(m2["tempo"]["bpm"], m1["tempo"]["bpm"]);  // deterministic: the same answer, analysed again
        EXPECT_EQ(m2["loudness"]["integrated_lufs"], m1["loudness"]["integrated_lufs"]);
    }
    // Multipart options take it as a boolean; anything else is refused.
    httplib::MultipartFormDataItems items = {
        {"file", wav, "a.wav", "audio/wav"},
        {"options", R"({"only":["tempo"],"refresh":true})", "", "application/json"}};
    auto mp = c.Post("/v1/jobs", items);
    ASSERT_TRUE(mp);
    ASSERT_EQ(mp->status, 202) << mp->body;
    EXPECT_TRUE(json::parse(mp->body)["refresh"].get<bool>());
    EXPECT_FALSE(json::parse(mp->body)["cached"].get<bool>());
    wait_job(c, json::parse(mp->body)["id"]);
    EXPECT_EQ(post_audio(c, wav, "?refresh=maybe")->status, 400);
    httplib::MultipartFormDataItems bad = {{"file", wav, "a.wav", "audio/wav"},
                                           {"options", R"({"refresh":"yes"})", "", "application/json"}};
    EXPECT_EQ(c.Post("/v1/jobs", bad)->status, 400);
}

}  // namespace
}  // namespace harmony::test
