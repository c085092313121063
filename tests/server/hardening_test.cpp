// Issue 19.7, the smaller holes an operator or a careless client finds: readiness that lies, an
// Idempotency-Key silently reused for other audio, one small request creating a thousand jobs,
// garbage on the socket closed without an answer, and tokens that are short or visible in ps.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "server_harness.hpp"
#include "support/test_support.hpp"

namespace harmony::test {
namespace {

using nlohmann::json;

TEST(Hardening, NotReadyWhenNoJobCanRun) {
    TempDir d;
    Server s(d.file("data"), {"--jobs", "0"});
    ASSERT_TRUE(s.start()) << s.log();
    auto r = s.client().Get("/ready");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503);
    EXPECT_NE(json::parse(r->body)["detail"].get<std::string>().find("--jobs 0"), std::string::npos) << r->body;
    EXPECT_EQ(s.client().Get("/health")->status, 200);  // alive, just not ready
}

TEST(Hardening, IdempotencyKeyReusedForOtherAudioIsRefused) {
    TempDir d;
    Server s(d.file("data"), {"--jobs", "1"});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    const httplib::Headers key = {{"Idempotency-Key", "abc-123"}};
    auto a = c.Post("/v1/jobs", key, make_wav_bytes(1.0, 700), "audio/wav");
    ASSERT_TRUE(a);
    ASSERT_EQ(a->status, 202) << a->body;
    auto same = c.Post("/v1/jobs", key, make_wav_bytes(1.0, 700), "audio/wav");  // a true retry
    ASSERT_TRUE(same);
    EXPECT_EQ(json::parse(same->body)["id"], json::parse(a->body)["id"]);
    auto other = c.Post("/v1/jobs", key, make_wav_bytes(1.0, 701), "audio/wav");  // other audio, same key
    ASSERT_TRUE(other);
    EXPECT_EQ(other->status, 400) << other->body;
    EXPECT_NE(other->body.find("Idempotency-Key"), std::string::npos) << other->body;
    auto opts = c.Post("/v1/jobs?only=loudness", key, make_wav_bytes(1.0, 700), "audio/wav");  // other options
    ASSERT_TRUE(opts);
    EXPECT_EQ(opts->status, 400) << opts->body;
}

TEST(Hardening, BatchSizeIsCapped) {
    TempDir d;
    Server s(d.file("data"), {"--jobs", "1", "--max-batch", "3"});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    httplib::MultipartFormDataItems items;
    for (int i = 0; i < 4; ++i) items.push_back({"file", make_wav_bytes(0.5, 710 + i), "t.wav", "audio/wav"});
    auto r = c.Post("/v1/batches", items);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413) << r->body;
    EXPECT_EQ(json::parse(c.Get("/health")->body)["jobs"]["queued"], 0);  // nothing was accepted
    items.pop_back();
    auto ok = c.Post("/v1/batches", items);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 202) << ok->body;
}

TEST(Hardening, GarbageOnTheSocketIsAnswered) {
    TempDir d;
    Server s(d.file("data"));
    ASSERT_TRUE(s.start()) << s.log();
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(s.port()));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    const std::string junk = "\x16\x03\x01\x02\x00 this is not HTTP\r\n\r\n";  // e.g. TLS to a plain port
    ASSERT_EQ(::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL), static_cast<ssize_t>(junk.size()));
    std::string got;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) got.append(buf, static_cast<size_t>(n));
    ::close(fd);
    EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got;
    EXPECT_NE(got.find("malformed-request"), std::string::npos) << got;
}

TEST(Hardening, TokensAreLongAndCanComeFromAFile) {
    TempDir d;
    const auto shortr =
        run_command({harmony_bin(), "serve", "--port", "0", "--data-dir", d.file("a"), "--token", "abc"}, 20);
    EXPECT_EQ(shortr.exit_code, 2) << shortr.err;
    EXPECT_NE(shortr.err.find("at least 16"), std::string::npos) << shortr.err;
    write_file(d.file("token.txt"), "a-long-enough-token-from-a-file\n");
    Server s(d.file("data"), {"--token-file", d.file("token.txt")});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    EXPECT_EQ(c.Get("/v1/jobs/x")->status, 401);
    EXPECT_EQ(c.Get("/v1/jobs/x", {{"Authorization", "Bearer a-long-enough-token-from-a-file"}})->status, 404);
}

// Operators: Prometheus metrics (queue depth, latency histogram, failures by code) behind the
// token, and a request id on every answer (the client's when sane, else a new one) that the
// access log carries.
TEST(Hardening, MetricsAndRequestIds) {
    TempDir d;
    Server s(d.file("data"), {"--jobs", "1", "--token", "metrics-token-0123456789"});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    const httplib::Headers auth = {{"Authorization", "Bearer metrics-token-0123456789"}};
    EXPECT_EQ(c.Get("/metrics")->status, 401);
    auto ok = c.Post("/v1/jobs", auth, make_wav_bytes(1.0, 720), "audio/wav");
    ASSERT_TRUE(ok);
    auto bad = c.Post("/v1/jobs", auth, std::string(4096, 'x'), "audio/wav");
    ASSERT_TRUE(bad);
    const std::vector<std::pair<std::string, std::string>> hv = {{"Authorization", "Bearer metrics-token-0123456789"}};
    wait_job(c, json::parse(ok->body)["id"], 60000, hv);
    wait_job(c, json::parse(bad->body)["id"], 60000, hv);
    auto m = c.Get("/metrics", auth);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->status, 200);
    EXPECT_EQ(m->get_header_value("Content-Type").rfind("text/plain", 0), 0u);
    const std::string& t = m->body;
    EXPECT_NE(t.find("harmony_jobs{state=\"queued\"} 0"), std::string::npos) << t;
    EXPECT_NE(t.find("harmony_jobs{state=\"succeeded\"} 1"), std::string::npos) << t;
    EXPECT_NE(t.find("harmony_job_duration_seconds_count 2"), std::string::npos) << t;
    EXPECT_NE(t.find("harmony_job_failures_total{code=\""), std::string::npos) << t;
    EXPECT_NE(t.find("harmony_up 1"), std::string::npos) << t;

    auto mine = c.Get("/health", {{"X-Request-Id", "abc-123.x"}});
    EXPECT_EQ(mine->get_header_value("X-Request-Id"), "abc-123.x");
    auto odd = c.Get("/health", {{"X-Request-Id", "has spaces and \"quotes\""}});
    const auto fresh = odd->get_header_value("X-Request-Id");
    EXPECT_FALSE(fresh.empty());
    EXPECT_EQ(fresh.find(' '), std::string::npos);
    EXPECT_NE(c.Get("/health")->get_header_value("X-Request-Id"), fresh);
}

// Operators: no limit on audio duration or job run time let one file hold a worker for hours.
// --max-duration fails longer audio at once, --job-timeout stops an analysis that runs too long;
// both as limit_exceeded (422), not retried.
TEST(Hardening, DurationAndRunTimeLimits) {
    TempDir d;
    Server s(d.file("data"), {"--jobs", "1", "--max-duration", "2s"});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    auto longer = post_audio(c, make_wav_bytes(3.0, 730));
    ASSERT_TRUE(longer);
    const auto j = wait_job(c, json::parse(longer->body)["id"]);
    EXPECT_EQ(j["status"], "failed") << j.dump();
    EXPECT_EQ(j["error"]["status"], 422) << j.dump();
    EXPECT_NE(j.dump().find("longer than the limit"), std::string::npos) << j.dump();
    EXPECT_EQ(j["attempts"], 1);
    auto shorter = post_audio(c, make_wav_bytes(1.5, 731));
    ASSERT_TRUE(shorter);
    EXPECT_EQ(wait_job(c, json::parse(shorter->body)["id"])["status"], "succeeded");

    Server t(d.file("data2"), {"--jobs", "1", "--job-timeout", "1s", "--debug-job-delay-ms", "20000"});
    ASSERT_TRUE(t.start()) << t.log();
    auto c2 = t.client();
    const auto t0 = std::chrono::steady_clock::now();
    auto slow = post_audio(c2, make_wav_bytes(1.0, 732));
    ASSERT_TRUE(slow);
    const auto k = wait_job(c2, json::parse(slow->body)["id"], 15000);
    EXPECT_EQ(k["status"], "failed") << k.dump();
    EXPECT_NE(k.dump().find("job timeout"), std::string::npos) << k.dump();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
}

}  // namespace
}  // namespace harmony::test
