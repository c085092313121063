// The job API end to end through the real binary on loopback: submit, status, result, cache,
// cancel, problems, limits, batches, exports, live progress (WebSocket and SSE).
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "harmony/engine.hpp"
#include "server_harness.hpp"
#include "shared_server.hpp"
#include "support/test_support.hpp"

namespace harmony::test {
namespace {

using nlohmann::json;

class ApiTest : public SharedServerTest<ApiTest> {
public:
    static std::vector<std::string> server_args() { return {"--jobs", "2", "--max-upload", "4M"}; }
};

void expect_problem(const httplib::Result& r, int status) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/problem+json");
    const auto j = json::parse(r->body);
    EXPECT_EQ(j["status"], status);
    EXPECT_TRUE(j["type"].is_string());
    EXPECT_TRUE(j["title"].is_string());
}

TEST_F(ApiTest, HealthAndReady) {
    auto c = server_->client();
    auto h = c.Get("/health");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->status, 200);
    EXPECT_EQ(json::parse(h->body)["store"], "sqlite");
    auto r = c.Get("/ready");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

TEST_F(ApiTest, SubmitPollResultThenCacheHit) {
    auto c = server_->client();
    const auto wav = make_wav_bytes(4.0, 1);
    auto r = post_audio(c, wav, "?only=tempo,loudness&filename=one.wav");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202) << r->body;
    const auto job = json::parse(r->body);
    EXPECT_EQ(r->get_header_value("Location"), "/v1/jobs/" + job["id"].get<std::string>());
    EXPECT_FALSE(job["cached"].get<bool>());
    const auto done = wait_job(c, job["id"]);
    ASSERT_EQ(done["status"], "succeeded") << done.dump();
    EXPECT_EQ(done["progress"], 1.0);
    EXPECT_EQ(done["attempts"], 1);
    auto res = c.Get(("/v1/jobs/" + job["id"].get<std::string>() + "/result").c_str());
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200);
    EXPECT_TRUE(validate_song_map_json(res->body).ok());
    const auto map = json::parse(res->body);
    EXPECT_EQ(map["audio"]["path"], "one.wav");
    EXPECT_TRUE(map.contains("tempo"));

    const auto analyses = json::parse(c.Get("/health")->body)["analyses"].get<int>();
    // Same bytes, same options: answered from the result store, no analysis.
    auto again = post_audio(c, wav, "?only=loudness,tempo&filename=two.wav");
    ASSERT_TRUE(again);
    ASSERT_EQ(again->status, 202);
    const auto j2 = json::parse(again->body);
    EXPECT_TRUE(j2["cached"].get<bool>());
    EXPECT_EQ(j2["status"], "succeeded");
    auto res2 = c.Get(("/v1/jobs/" + j2["id"].get<std::string>() + "/result").c_str());
    ASSERT_TRUE(res2);
    EXPECT_EQ(json::parse(res2->body)["audio"]["path"], "two.wav");
    EXPECT_EQ(json::parse(c.Get("/health")->body)["analyses"].get<int>(), analyses);
    // Other options: a new analysis.
    auto other = post_audio(c, wav, "?only=tempo&param=tempo.min_bpm=70");
    ASSERT_TRUE(other);
    ASSERT_EQ(other->status, 202) << other->body;
    EXPECT_FALSE(json::parse(other->body)["cached"].get<bool>());
    EXPECT_EQ(wait_job(c, json::parse(other->body)["id"])["status"], "succeeded");
}

TEST_F(ApiTest, IdempotencyKeyReturnsTheSameJob) {
    auto c = server_->client();
    const auto wav = make_wav_bytes(2.0, 5);
    httplib::Headers h = {{"Idempotency-Key", "retry-me-42"}};
    auto first = c.Post("/v1/jobs?only=loudness", h, wav, "audio/wav");
    ASSERT_TRUE(first);
    ASSERT_EQ(first->status, 202) << first->body;
    auto second = c.Post("/v1/jobs?only=loudness", h, wav, "audio/wav");
    ASSERT_TRUE(second);
    ASSERT_EQ(second->status, 202) << second->body;
    EXPECT_EQ(json::parse(first->body)["id"], json::parse(second->body)["id"]);
    auto other = c.Post("/v1/jobs?only=loudness", {{"Idempotency-Key", "another"}}, wav, "audio/wav");
    ASSERT_TRUE(other);
    EXPECT_NE(json::parse(other->body)["id"], json::parse(first->body)["id"]);
    expect_problem(c.Post("/v1/jobs", {{"Idempotency-Key", std::string(300, 'k')}}, wav, "audio/wav"), 400);
}

TEST_F(ApiTest, MultipartUploadWithOptions) {
    auto c = server_->client();
    httplib::MultipartFormDataItems items = {
        {"file", make_wav_bytes(3.0, 2), "track.wav", "audio/wav"},
        {"options", R"({"only":["loudness"]})", "", "application/json"},
    };
    auto r = c.Post("/v1/jobs", items);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202) << r->body;
    const auto job = json::parse(r->body);
    EXPECT_EQ(job["source"]["name"], "track.wav");
    EXPECT_EQ(job["request"]["only"], json::array({"loudness"}));
    const auto done = wait_job(c, job["id"]);
    ASSERT_EQ(done["status"], "succeeded") << done.dump();
    const auto map = json::parse(c.Get(("/v1/jobs/" + job["id"].get<std::string>() + "/result").c_str())->body);
    EXPECT_TRUE(map.contains("loudness"));
    EXPECT_FALSE(map.contains("key"));
}

TEST_F(ApiTest, ProblemsForBadRequests) {
    auto c = server_->client();
    expect_problem(c.Get("/v1/jobs/doesnotexist"), 404);
    expect_problem(c.Get("/v1/jobs/doesnotexist/result"), 404);
    expect_problem(c.Delete("/v1/jobs/doesnotexist"), 404);
    expect_problem(c.Get("/v1/batches/nope"), 404);
    expect_problem(c.Get("/no/such/route"), 404);
    expect_problem(c.Post("/v1/jobs", "hello", "text/plain"), 415);
    expect_problem(c.Post("/v1/batches", "hello", "text/plain"), 415);
    expect_problem(post_audio(c, make_wav_bytes(1.0, 3), "?only=nosuchanalyzer"), 400);
    expect_problem(post_audio(c, make_wav_bytes(1.0, 3), "?param=tempo.min_bpm=-5"), 400);
    // Server paths are not a client's to choose: where stems are written, which weights are read.
    expect_problem(post_audio(c, make_wav_bytes(1.0, 3), "?only=stems&param=stems.dir=/tmp/x"), 400);
    expect_problem(post_audio(c, make_wav_bytes(1.0, 3), "?only=stems&param=stems.model=/etc/passwd"), 400);
    expect_problem(post_audio(c, ""), 422);  // empty body
    auto put = c.Put("/v1/jobs", "x", "text/plain");
    expect_problem(put, 405);
    EXPECT_FALSE(put->get_header_value("Allow").empty());
    // Over the 4 MiB upload limit: 413 before the body is read.
    expect_problem(post_audio(c, std::string(5 << 20, 'x')), 413);
    // Over the 1 MiB limit for other bodies.
    expect_problem(c.Post("/v1/batches", std::string(2 << 20, ' '), "application/json"), 413);
}

TEST_F(ApiTest, UndecodableAudioFailsWithProblem) {
    auto c = server_->client();
    auto r = post_audio(c, std::string(20000, 'z'), "", "application/octet-stream");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202);
    const auto done = wait_job(c, json::parse(r->body)["id"]);
    ASSERT_EQ(done["status"], "failed") << done.dump();
    EXPECT_EQ(done["attempts"], 1);  // input errors are not retried
    EXPECT_EQ(done["error"]["code"], "unsupported_format");
    expect_problem(c.Get(("/v1/jobs/" + done["id"].get<std::string>() + "/result").c_str()), 409);
}

TEST_F(ApiTest, BatchAndExports) {
    auto c = server_->client();
    httplib::MultipartFormDataItems items = {
        {"file", make_wav_bytes(3.0, 10), "a.wav", "audio/wav"},
        {"file", make_wav_bytes(3.0, 11), "b.wav", "audio/wav"},
        {"options", R"({"only":"tempo,key"})", "", "application/json"},
    };
    auto r = c.Post("/v1/batches", items);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202) << r->body;
    const auto batch = json::parse(r->body);
    ASSERT_EQ(batch["jobs"].size(), 2u);
    EXPECT_EQ(r->get_header_value("Location"), "/v1/batches/" + batch["id"].get<std::string>());
    std::vector<std::string> msgs;  // batch progress over a WebSocket until the batch ends
    ASSERT_EQ(
        websocket_collect(server_->port(), "/v1/batches/" + batch["id"].get<std::string>() + "/events", msgs, 60000),
        101);
    ASSERT_FALSE(msgs.empty());
    const auto last = json::parse(msgs.back());
    EXPECT_EQ(last["status"], "succeeded");
    EXPECT_EQ(last["counts"]["succeeded"], 2);
    for (const auto& j : batch["jobs"]) EXPECT_EQ(wait_job(c, j["id"])["status"], "succeeded");
    auto b = c.Get(("/v1/batches/" + batch["id"].get<std::string>()).c_str());
    ASSERT_TRUE(b);
    const auto bj = json::parse(b->body);
    EXPECT_EQ(bj["status"], "succeeded");
    EXPECT_EQ(bj["counts"]["succeeded"], 2);
    EXPECT_EQ(bj["progress"], 1.0);

    const std::string id = batch["jobs"][0]["id"];
    auto js = c.Get(("/v1/jobs/" + id + "/export/json").c_str());
    ASSERT_TRUE(js);
    EXPECT_EQ(js->status, 200) << js->body;
    auto csv = c.Get(("/v1/jobs/" + id + "/export/csv?key_notation=camelot").c_str());
    ASSERT_TRUE(csv);
    EXPECT_EQ(csv->status, 200) << csv->body;
    EXPECT_NE(csv->get_header_value("Content-Disposition").find("a.csv"), std::string::npos);
    expect_problem(c.Get(("/v1/jobs/" + id + "/export/nosuchformat").c_str()), 404);
}

TEST_F(ApiTest, WebSocketAndSseProgress) {
    auto c = server_->client();
    auto r = post_audio(c, make_wav_bytes(8.0, 20));
    ASSERT_TRUE(r);
    const std::string id = json::parse(r->body)["id"];
    std::vector<std::string> msgs;
    ASSERT_EQ(websocket_collect(server_->port(), "/v1/jobs/" + id + "/events", msgs, 60000), 101);
    ASSERT_FALSE(msgs.empty());
    const auto last = json::parse(msgs.back());
    EXPECT_EQ(last["status"], "succeeded");
    EXPECT_EQ(last["job"], id);
    double prev = -1;
    for (const auto& m : msgs) {
        const auto e = json::parse(m);
        EXPECT_EQ(e["type"], "progress");
        EXPECT_GE(e["progress"].get<double>(), prev - 1e-9);  // never goes backwards
        prev = e["progress"].get<double>();
    }
    // SSE on the finished job: the final state as an `end` event.
    const auto sse = sse_collect(server_->port(), "/v1/jobs/" + id + "/events", 10000);
    EXPECT_NE(sse.find("text/event-stream"), std::string::npos);
    EXPECT_NE(sse.find("event: end"), std::string::npos);
    EXPECT_NE(sse.find("\"succeeded\""), std::string::npos);
    // Unknown job: 404 before any upgrade.
    EXPECT_EQ(websocket_collect(server_->port(), "/v1/jobs/nope/events", msgs, 5000), 404);
}

TEST_F(ApiTest, CancelRunningJob) {
    TempDir d;
    Server s(d.file("data"), {"--jobs", "1", "--debug-job-delay-ms", "5000"});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    auto r = post_audio(c, make_wav_bytes(2.0, 30));
    ASSERT_TRUE(r);
    const std::string id = json::parse(r->body)["id"];
    for (int i = 0; i < 100 && json::parse(c.Get(("/v1/jobs/" + id).c_str())->body)["status"] != "running"; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto del = c.Delete(("/v1/jobs/" + id).c_str());
    ASSERT_TRUE(del);
    EXPECT_EQ(del->status, 200);
    EXPECT_EQ(json::parse(del->body)["status"], "canceled");
    const auto done = wait_job(c, id, 10000);
    EXPECT_EQ(done["status"], "canceled");
    // The kept audio goes with the job.
    for (int i = 0; i < 100 && !std::filesystem::is_empty(d.file("data") + "/audio"); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(std::filesystem::is_empty(d.file("data") + "/audio"));
}

}  // namespace
}  // namespace harmony::test
