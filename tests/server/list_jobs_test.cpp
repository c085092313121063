// GET /v1/jobs: filters and cursor pagination, through the store (SQLite here, PostgreSQL in
// postgres_test.cpp) and through the real server.
#include <gtest/gtest.h>

#include <set>

#include "server/job_store.hpp"
#include "server_harness.hpp"
#include "store_listing.hpp"
#include "support/test_support.hpp"

namespace harmony::test {
namespace {

using nlohmann::json;

TEST(JobListing, SqliteStoreFiltersAndPages) {
    TempDir dir;
    auto store = server::open_sqlite_store(dir.file("jobs.db"));
    ASSERT_TRUE(store) << store.error().message;
    check_store_listing(**store);
}

/// Follows links.next from `first` to the end; returns the ids in the order served.
std::vector<std::string> walk(httplib::Client& c, std::string url) {
    std::vector<std::string> ids;
    for (int pages = 0; pages < 50 && !url.empty(); ++pages) {
        auto r = c.Get(url.c_str());
        EXPECT_TRUE(r);
        if (!r) return ids;
        EXPECT_EQ(r->status, 200) << url << ": " << r->body;
        const auto j = json::parse(r->body);
        for (const auto& job : j["jobs"]) ids.push_back(job["id"]);
        if (j["next_cursor"].is_null()) {
            EXPECT_FALSE(j["links"].contains("next"));
            return ids;
        }
        url = j["links"]["next"];
    }
    ADD_FAILURE() << "pagination did not end";
    return ids;
}

TEST(JobListing, ServerListsFiltersAndPagesJobs) {
    TempDir dir;
    // No job runs (--jobs 0): states stay as the test sets them.
    Server server(dir.file("data"), {"--jobs", "0"});
    ASSERT_TRUE(server.start()) << server.log();
    auto c = server.client();
    auto empty = c.Get("/v1/jobs");
    ASSERT_TRUE(empty);
    ASSERT_EQ(empty->status, 200) << empty->body;
    EXPECT_EQ(json::parse(empty->body)["jobs"].size(), 0u);
    EXPECT_TRUE(json::parse(empty->body)["next_cursor"].is_null());

    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) {
        auto r = post_audio(c, make_wav_bytes(1.0, 100 + i), "?filename=t" + std::to_string(i) + ".wav");
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, 202) << r->body;
        ids.push_back(json::parse(r->body)["id"]);
    }
    ASSERT_EQ(c.Delete(("/v1/jobs/" + ids[1]).c_str())->status, 200);
    ASSERT_EQ(c.Delete(("/v1/jobs/" + ids[3]).c_str())->status, 200);
    const std::vector<std::string> newest_first(ids.rbegin(), ids.rend());

    EXPECT_EQ(walk(c, "/v1/jobs"), newest_first);
    EXPECT_EQ(walk(c, "/v1/jobs?limit=2"), newest_first);
    EXPECT_EQ(walk(c, "/v1/jobs?limit=1"), newest_first);
    EXPECT_EQ(walk(c, "/v1/jobs?status=canceled&limit=1"), (std::vector<std::string>{ids[3], ids[1]}));
    EXPECT_EQ(walk(c, "/v1/jobs?status=queued,canceled&limit=4"), newest_first);
    EXPECT_EQ(walk(c, "/v1/jobs?status=succeeded").size(), 0u);
    EXPECT_EQ(walk(c, "/v1/jobs?created_after=2000-01-01T00:00:00Z&limit=3"), newest_first);
    EXPECT_EQ(walk(c, "/v1/jobs?created_before=2000-01-01T00:00:00%2B01:00").size(), 0u);
    EXPECT_EQ(walk(c, "/v1/jobs?created_after=2999-01-01T00:00:00.5Z").size(), 0u);

    // The next link keeps the filters.
    auto page = c.Get("/v1/jobs?status=queued&limit=1");
    ASSERT_TRUE(page);
    const auto p = json::parse(page->body);
    EXPECT_EQ(p["jobs"][0]["id"], ids[4]);
    EXPECT_EQ(p["jobs"][0]["status"], "queued");
    const std::string next = p["links"]["next"];
    EXPECT_NE(next.find("status=queued"), std::string::npos) << next;
    EXPECT_NE(next.find("limit=1"), std::string::npos) << next;
    EXPECT_NE(next.find("cursor=" + p["next_cursor"].get<std::string>()), std::string::npos) << next;
    // A job submitted during a walk does not shift the pages after the cursor.
    auto late = post_audio(c, make_wav_bytes(1.0, 200), "?filename=late.wav");
    ASSERT_TRUE(late);
    ASSERT_EQ(late->status, 202);
    EXPECT_EQ(walk(c, next), (std::vector<std::string>{ids[2], ids[0]}));

    for (const char* bad : {"/v1/jobs?status=done", "/v1/jobs?status=", "/v1/jobs?status=queued,", "/v1/jobs?limit=0",
                            "/v1/jobs?limit=201", "/v1/jobs?limit=ten", "/v1/jobs?limit=5x", "/v1/jobs?cursor=zz",
                            "/v1/jobs?cursor=c", "/v1/jobs?cursor=c0", "/v1/jobs?cursor=cffffffffffffffffff",
                            "/v1/jobs?created_after=yesterday", "/v1/jobs?created_after=2026-13-01T00:00:00Z",
                            "/v1/jobs?created_before=2026-12-01T00:00:00", "/v1/jobs?batch_id=", "/v1/jobs?sort=asc"}) {
        auto r = c.Get(bad);
        ASSERT_TRUE(r) << bad;
        EXPECT_EQ(r->status, 400) << bad << ": " << r->body;
        EXPECT_EQ(r->get_header_value("Content-Type"), "application/problem+json") << bad;
    }
    auto put = c.Put("/v1/jobs", "", "text/plain");
    ASSERT_TRUE(put);
    EXPECT_EQ(put->status, 405);
    EXPECT_EQ(put->get_header_value("Allow"), "GET, POST");
}

TEST(JobListing, TokenIsRequired) {
    TempDir dir;
    const std::string token = "listing-token-0123456789";
    Server server(dir.file("data"), {"--jobs", "0", "--token", token});
    ASSERT_TRUE(server.start()) << server.log();
    auto c = server.client();
    auto no = c.Get("/v1/jobs");
    ASSERT_TRUE(no);
    EXPECT_EQ(no->status, 401);
    auto yes = c.Get("/v1/jobs", {{"Authorization", "Bearer " + token}});
    ASSERT_TRUE(yes);
    EXPECT_EQ(yes->status, 200) << yes->body;
}

}  // namespace
}  // namespace harmony::test
