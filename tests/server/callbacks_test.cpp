// Completion callbacks (issue 19): signed, retried with backoff, durable across kill -9, sent only
// to allowed hosts. Receivers run in the test on loopback.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>

#include "server/http/callbacks.hpp"
#include "server_harness.hpp"
#include "support/test_support.hpp"

namespace harmony::test {
namespace {

using nlohmann::json;
using server::http::callback_host_allowed;
using server::http::hmac_sha256_hex;
using server::http::parse_callback_url;

TEST(Callbacks, HmacSha256MatchesRfc4231) {
    // RFC 4231, test cases 1 and 2.
    EXPECT_EQ(hmac_sha256_hex(std::string(20, '\x0b'), "Hi There"),
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(server::http::callback_signature("Jefe", 1700000000, "{}"),
              "t=1700000000,v1=" + hmac_sha256_hex("Jefe", "1700000000.{}"));
}

TEST(Callbacks, UrlsAreParsedStrictly) {
    auto u = parse_callback_url("HTTP://Hooks.Example.com:8080/a/b?x=1");
    ASSERT_TRUE(u) << u.error().message;
    EXPECT_EQ(u->scheme, "http");
    EXPECT_EQ(u->host, "hooks.example.com");
    EXPECT_EQ(u->port, 8080);
    EXPECT_EQ(u->target, "/a/b?x=1");
    auto s = parse_callback_url("https://[::1]/hook");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->host, "::1");
    EXPECT_EQ(s->port, 443);
    auto bare = parse_callback_url("http://127.0.0.1:9?q");
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->target, "/?q");
    for (const char* bad : {"", "127.0.0.1/hook", "ftp://127.0.0.1/", "file:///etc/passwd", "http://user@127.0.0.1/",
                            "http:///path", "http://127.0.0.1:0/", "http://127.0.0.1:65536/", "http://127.0.0.1:8x/",
                            "http://127.0.0.1/a b", "http://127.0.0.1/#frag", "http://[::1/"}) {
        EXPECT_FALSE(parse_callback_url(bad)) << bad;
    }
    EXPECT_FALSE(parse_callback_url("http://h/" + std::string(3000, 'a')));
    EXPECT_TRUE(callback_host_allowed(*u, {"hooks.example.com"}));
    EXPECT_TRUE(callback_host_allowed(*u, {"hooks.example.com:8080"}));
    EXPECT_FALSE(callback_host_allowed(*u, {"hooks.example.com:80"}));
    EXPECT_FALSE(callback_host_allowed(*u, {"example.com"}));
    EXPECT_FALSE(callback_host_allowed(*u, {}));
    EXPECT_TRUE(callback_host_allowed(*u, {"*"}));
    EXPECT_TRUE(callback_host_allowed(*s, {"[::1]:443"}));
}

/// A webhook receiver on loopback: answers `fail_first` requests with 500, then 200.
class Receiver {
public:
    explicit Receiver(int fail_first, int port = 0) : fail_first_(fail_first) {
        srv_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard lock(mu_);
            got_.push_back(req);
            res.status = static_cast<int>(got_.size()) <= fail_first_ ? 500 : 200;
            res.set_content("{}", "application/json");
        });
        port_ = port > 0 ? (srv_.bind_to_port("127.0.0.1", port) ? port : -1) : srv_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { srv_.listen_after_bind(); });
    }
    ~Receiver() {
        srv_.stop();
        thread_.join();
    }
    int port() const { return port_; }
    std::vector<httplib::Request> requests() {
        std::lock_guard lock(mu_);
        return got_;
    }
    bool wait_for(std::size_t n, int timeout_ms) {
        for (int waited = 0; waited < timeout_ms; waited += 20) {
            if (requests().size() >= n) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return requests().size() >= n;
    }

private:
    httplib::Server srv_;
    int fail_first_;
    int port_ = 0;
    std::thread thread_;
    std::mutex mu_;
    std::vector<httplib::Request> got_;
};

const std::string kSecret = "callback-secret-0123456789";

std::vector<std::string> callback_args(const TempDir& d, const std::vector<std::string>& more = {}) {
    std::ofstream(d.file("secret.txt")) << kSecret << "\n";
    std::vector<std::string> a = {"--callback-host",
                                  "127.0.0.1",
                                  "--callback-secret-file",
                                  d.file("secret.txt"),
                                  "--debug-callback-backoff-ms",
                                  "100"};
    a.insert(a.end(), more.begin(), more.end());
    return a;
}

TEST(Callbacks, DeliveredSignedAndRetriedUntilAccepted) {
    TempDir d;
    Receiver rx(2);  // two 500s, then 200
    ASSERT_GT(rx.port(), 0);
    Server s(d.file("data"), callback_args(d, {"--jobs", "1"}));
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    const std::string url = "http://127.0.0.1:" + std::to_string(rx.port()) + "/hook?tag=a";
    auto r = post_audio(c, make_wav_bytes(2.0, 700), "?only=tempo&callback_url=" + url);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202) << r->body;
    const std::string id = json::parse(r->body)["id"];
    EXPECT_EQ(wait_job(c, id)["status"], "succeeded");
    ASSERT_TRUE(rx.wait_for(3, 15000)) << s.log();
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    const auto got = rx.requests();
    ASSERT_EQ(got.size(), 3u) << "delivered once accepted, never again";
    for (std::size_t i = 0; i < got.size(); ++i) {
        const auto& q = got[i];
        EXPECT_EQ(q.path, "/hook");
        EXPECT_EQ(q.get_param_value("tag"), "a");
        EXPECT_EQ(q.get_header_value("Harmony-Event-Id"), id);
        EXPECT_EQ(q.get_header_value("Harmony-Delivery-Attempt"), std::to_string(i + 1));
        EXPECT_EQ(q.get_header_value("Content-Type"), "application/json");
        // The receiver's check: t=<seconds>,v1=HMAC-SHA256(secret, "<t>.<body>").
        const auto sig = q.get_header_value("Harmony-Signature");
        const auto comma = sig.find(",v1=");
        ASSERT_EQ(sig.rfind("t=", 0), 0u) << sig;
        ASSERT_NE(comma, std::string::npos) << sig;
        const auto t = sig.substr(2, comma - 2);
        EXPECT_EQ(sig.substr(comma + 4), hmac_sha256_hex(kSecret, t + "." + q.body)) << sig;
        EXPECT_NE(sig.substr(comma + 4), hmac_sha256_hex("another-secret-0123456789", t + "." + q.body));
        EXPECT_LT(std::abs(std::stoll(t) - static_cast<long long>(std::time(nullptr))), 60);
        const auto body = json::parse(q.body);
        EXPECT_EQ(body["type"], "job.finished");
        EXPECT_EQ(body["job"]["id"], id);
        EXPECT_EQ(body["job"]["status"], "succeeded");
    }
    const auto job = json::parse(c.Get(("/v1/jobs/" + id).c_str())->body);
    EXPECT_EQ(job["callback"]["state"], "delivered") << job.dump();
    EXPECT_EQ(job["callback"]["attempts"], 3);
}

TEST(Callbacks, GivenUpAfterTheAttemptsAndFailedJobsToo) {
    TempDir d;
    Receiver rx(1000);  // always 500
    Server s(d.file("data"), callback_args(d, {"--jobs", "1", "--callback-attempts", "2"}));
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    // Not audio: the job fails, and its callback says so.
    httplib::MultipartFormDataItems items = {
        {"file", std::string(1000, 'x'), "noise.wav", "audio/wav"},
        {"options", R"({"callback_url":"http://127.0.0.1:)" + std::to_string(rx.port()) + R"(/h"})", "", ""}};
    auto r = c.Post("/v1/jobs", items);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202) << r->body;
    const std::string id = json::parse(r->body)["id"];
    EXPECT_EQ(wait_job(c, id)["status"], "failed");
    ASSERT_TRUE(rx.wait_for(2, 15000)) << s.log();
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    const auto got = rx.requests();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(json::parse(got[0].body)["job"]["status"], "failed");
    const auto job = json::parse(c.Get(("/v1/jobs/" + id).c_str())->body);
    EXPECT_EQ(job["callback"]["state"], "failed") << job.dump();
    EXPECT_EQ(job["callback"]["attempts"], 2);
    EXPECT_NE(s.log().find("given up after 2 attempt(s): HTTP 500"), std::string::npos) << s.log();
}

TEST(Callbacks, PendingCallbackSurvivesKillDashNine) {
    TempDir d;
    const int port = free_port();
    std::string id;
    {
        // No receiver yet: every attempt is refused and retried.
        Server s(d.file("data"), callback_args(d, {"--jobs", "1"}));
        ASSERT_TRUE(s.start()) << s.log();
        auto c = s.client();
        auto r = post_audio(c, make_wav_bytes(1.0, 710),
                            "?only=loudness&callback_url=http://127.0.0.1:" + std::to_string(port) + "/late");
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, 202) << r->body;
        id = json::parse(r->body)["id"];
        EXPECT_EQ(wait_job(c, id)["status"], "succeeded");
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
        const auto job = json::parse(c.Get(("/v1/jobs/" + id).c_str())->body);
        EXPECT_EQ(job["callback"]["state"], "pending") << job.dump();
        EXPECT_GE(job["callback"]["attempts"].get<int>(), 1);
        s.kill9();
    }
    Receiver rx(0, port);
    ASSERT_EQ(rx.port(), port);
    Server s(d.file("data"), callback_args(d, {"--jobs", "1"}));
    ASSERT_TRUE(s.start()) << s.log();
    ASSERT_TRUE(rx.wait_for(1, 20000)) << s.log();
    EXPECT_EQ(rx.requests()[0].get_header_value("Harmony-Event-Id"), id);
    EXPECT_EQ(json::parse(rx.requests()[0].body)["job"]["id"], id);
}

TEST(Callbacks, RefusedUnlessTheHostIsAllowed) {
    TempDir d;
    {
        Server off(d.file("off"), {"--jobs", "0"});
        ASSERT_TRUE(off.start()) << off.log();
        auto c = off.client();
        auto r = post_audio(c, make_wav_bytes(1.0, 720), "?callback_url=http://127.0.0.1:9/h");
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 400) << r->body;
        EXPECT_NE(r->body.find("--callback-host"), std::string::npos) << r->body;
    }
    Server s(d.file("on"), callback_args(d, {"--jobs", "0"}));
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    for (const char* url :
         {"http://example.com/h", "http://127.0.0.2/h", "ftp://127.0.0.1/h", "http://u@127.0.0.1/h", "127.0.0.1/h"}) {
        auto r = post_audio(c, make_wav_bytes(1.0, 721), std::string("?callback_url=") + url);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 400) << url << ": " << r->body;
    }
    httplib::MultipartFormDataItems items = {{"file", make_wav_bytes(1.0, 722), "a.wav", "audio/wav"},
                                             {"options", R"({"callback_url":"http://evil.example/"})", "", ""}};
    auto b = c.Post("/v1/batches", items);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->status, 400) << b->body;
    auto good = post_audio(c, make_wav_bytes(1.0, 723), "?callback_url=http://127.0.0.1:9/ok");
    ASSERT_TRUE(good);
    EXPECT_EQ(good->status, 202) << good->body;
    // A secret is required, and must not be guessable.
    auto no_secret = run_command(
        {harmony_bin(), "serve", "--port", "0", "--data-dir", d.file("x"), "--callback-host", "127.0.0.1"}, 20);
    EXPECT_EQ(no_secret.exit_code, 2) << no_secret.err;
}

}  // namespace
}  // namespace harmony::test
