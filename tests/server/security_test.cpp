// Security: bearer token beyond loopback, server-side file reads confined to --file-root (path
// traversal, symlinks), CORS only for the configured origin.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "server/http/http_server.hpp"
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
    Server s(d.file("data"), {"--bind", "0.0.0.0", "--token", "s3cret-token-0123456789"});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    EXPECT_EQ(c.Get("/health")->status, 200);  // probes stay open
    auto no = c.Get("/v1/jobs/x");
    ASSERT_TRUE(no);
    EXPECT_EQ(no->status, 401);
    EXPECT_EQ(no->get_header_value("WWW-Authenticate").rfind("Bearer", 0), 0u);
    EXPECT_EQ(c.Get("/v1/jobs/x", {{"Authorization", "Bearer wrong-token!"}})->status, 401);
    EXPECT_EQ(c.Get("/v1/jobs/x", {{"Authorization", "Bearer s3cret-token-0123456789"}})->status, 404);
    auto r = c.Post("/v1/jobs", {{"Authorization", "Bearer s3cret-token-0123456789"}}, make_wav_bytes(1.0, 300),
                    "audio/wav");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 202);
    std::vector<std::string> msgs;
    const std::string id = json::parse(r->body)["id"];
    EXPECT_EQ(websocket_collect(s.port(), "/v1/jobs/" + id + "/events", msgs, 5000), 401);
    EXPECT_EQ(
        websocket_collect(s.port(), "/v1/jobs/" + id + "/events?access_token=s3cret-token-0123456789", msgs, 30000),
        101);
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

// Issue 19.4: the path was confined to --file-root at submit time but opened later, so a symlink
// swapped in meanwhile was read outside the root and its Song Map cached under the submitted
// file's hash. The job now re-checks the opened file's real path and content hash when it runs.
TEST(Security, FileSwappedAfterSubmitIsNotReadNorCached) {
    TempDir d;
    fs::create_directories(d.file("root/music"));
    write_file(d.file("root/music/ok.wav"), make_wav_bytes(1.0, 320));
    write_file(d.file("root/music/edit.wav"), make_wav_bytes(1.0, 321));
    write_file(d.file("secret.wav"), make_wav_bytes(3.0, 322));
    // One worker and a delay per job: the second and third jobs wait while the first one runs.
    Server s(d.file("data"), {"--file-root", d.file("root"), "--jobs", "1", "--debug-job-delay-ms", "1500"});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    auto post = [&](const std::string& p) {
        auto r = c.Post("/v1/jobs", json{{"source", {{"path", p}}}, {"only", {"loudness"}}}.dump(), "application/json");
        EXPECT_TRUE(r && r->status == 202) << (r ? r->body : "no answer");
        return r ? json::parse(r->body)["id"].get<std::string>() : std::string();
    };
    auto first = post_audio(c, make_wav_bytes(1.0, 323));
    ASSERT_TRUE(first);
    const std::string swapped = post("music/ok.wav");
    const std::string edited = post("music/edit.wav");
    // Swap in a symlink to a file outside the root, and rewrite the other file, before they run.
    fs::remove(d.file("root/music/ok.wav"));
    fs::create_symlink(d.file("secret.wav"), d.file("root/music/ok.wav"));
    write_file(d.file("root/music/edit.wav"), make_wav_bytes(2.0, 324));
    const auto j1 = wait_job(c, swapped, 60000);
    EXPECT_EQ(j1["status"], "failed") << j1.dump();
    EXPECT_NE(j1.dump().find("outside the file root"), std::string::npos) << j1.dump();
    const auto j2 = wait_job(c, edited, 60000);
    EXPECT_EQ(j2["status"], "failed") << j2.dump();
    EXPECT_NE(j2.dump().find("changed after the job was submitted"), std::string::npos) << j2.dump();
    // Nothing was cached for them: the restored file is analysed afresh and succeeds.
    fs::remove(d.file("root/music/ok.wav"));
    write_file(d.file("root/music/ok.wav"), make_wav_bytes(1.0, 320));
    const auto again = wait_job(c, post("music/ok.wav"), 60000);
    EXPECT_EQ(again["status"], "succeeded") << again.dump();
    EXPECT_FALSE(again["cached"].get<bool>()) << again.dump();
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

// Issue 19.2: idle connections were never closed (the 60 s idle timeout had no effect), and with
// --max-connections 4 four clients trickling one byte every 20 s locked every other client out
// (503) for as long as they liked. Now a request's headers must arrive within the idle timeout
// however slowly they trickle, an idle keep-alive connection is closed after it, and at the
// connection limit the longest-idle connection makes room for a newcomer.
TEST(Security, SlowAndIdleConnectionsCannotLockOthersOut) {
    TempDir d;
    Server s(d.file("data"), {"--max-connections", "4", "--idle-timeout", "2"});
    ASSERT_TRUE(s.start()) << s.log();
    std::vector<int> slow;
    for (int i = 0; i < 4; ++i) {
        const int fd = connect_loopback(s.port());
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::send(fd, "G", 1, MSG_NOSIGNAL), 1);
        slow.push_back(fd);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    // A fifth client is served at once: an idle (header-less) connection is evicted for it.
    auto c = s.client();
    const auto t0 = std::chrono::steady_clock::now();
    auto h = c.Get("/health");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->status, 200);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
    // The slow clients keep trickling (one byte each 0.5 s): all are closed by the 2 s header deadline.
    int closed = 0;
    for (int round = 0; round < 8 && closed < 4; ++round) {
        for (int& fd : slow) {
            if (fd < 0) continue;
            if (closed_within(fd, 0) || ::send(fd, "E", 1, MSG_NOSIGNAL) != 1) {
                ::close(fd);
                fd = -1;
                ++closed;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    for (int fd : slow)
        if (fd >= 0) ::close(fd);
    EXPECT_EQ(closed, 4) << "slow-header connections still open after twice the idle timeout";
    // An idle keep-alive connection (a request answered, then silence) is closed after the timeout.
    const int idle = connect_loopback(s.port());
    const std::string req = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    ASSERT_EQ(::send(idle, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
    char buf[4096];
    ASSERT_GT(::recv(idle, buf, sizeof buf, 0), 0);
    EXPECT_TRUE(closed_within(idle, 4000)) << "idle keep-alive connection still open after 4 s";
    ::close(idle);
}

/// Sends GET /health on `fd` and reads the answer; the HTTP status, or 0 when the connection failed.
int health_on(int fd) {
    const std::string req = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return 0;
    std::string got;
    char buf[4096];
    while (got.find("\r\n\r\n") == std::string::npos) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 5000) <= 0) return 0;
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return 0;
        got.append(buf, static_cast<std::size_t>(n));
    }
    const auto len_at = got.find("Content-Length: ");
    const auto head_end = got.find("\r\n\r\n") + 4;
    const auto len = len_at == std::string::npos ? 0 : std::stoul(got.substr(len_at + 16));
    while (got.size() < head_end + len) {
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return 0;
        got.append(buf, static_cast<std::size_t>(n));
    }
    return got.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(got.substr(9, 3)) : 0;
}

// Issue 19, "Measured" (200 slow or idle connections held open while jobs run): eviction at
// --max-connections took the longest-idle connection whatever it was. Attackers that reconnect the
// moment they are closed were always younger than a keep-alive client pausing between requests, so
// that client was evicted; and a connection whose thread had not started could not be evicted at
// all (503 for the next client in such a storm). Now connections that never delivered a request
// header go first, and a new connection is evictable from the moment it is accepted.
TEST(Security, HeaderlessConnectionsAreEvictedBeforeKeepAliveClients) {
    TempDir d;
    Server s(d.file("data"), {"--max-connections", "6", "--idle-timeout", "30"});
    ASSERT_TRUE(s.start()) << s.log();
    // A keep-alive client: one request answered, then a pause (idle the longest of all below).
    const int keep = connect_loopback(s.port());
    ASSERT_GE(keep, 0);
    ASSERT_EQ(health_on(keep), 200);
    // Attackers: header-less connections, newer than the client's pause, three times the limit.
    std::vector<int> attackers;
    for (int i = 0; i < 18; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        const int fd = connect_loopback(s.port());
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::send(fd, "G", 1, MSG_NOSIGNAL), 1);
        attackers.push_back(fd);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    // The client's connection survived all that and is still served.
    EXPECT_EQ(health_on(keep), 200) << "the keep-alive client was evicted in favour of header-less connections";
    // A newcomer is served too (an attacker makes room).
    const int fresh = connect_loopback(s.port());
    ASSERT_GE(fresh, 0);
    EXPECT_EQ(health_on(fresh), 200);
    ::close(fresh);
    ::close(keep);
    for (int fd : attackers) ::close(fd);
}

// Issue 19.1: invalid UTF-8 in a path, a query or a file name aborted the whole process
// (nlohmann type_error.316) before the token check; a stored job with such a name did so again on
// every status read. Targets that are not UTF-8 are refused with 400; file names are stored with
// U+FFFD in place of the bad bytes; the server keeps serving.
TEST(Security, InvalidUtf8IsRefusedNotFatal) {
    TempDir d;
    Server s(d.file("data"));
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    for (const char* target : {"/%FF", "/v1/jobs/%FF", "/v1/jobs/%FF/result", "/v1/jobs?only=%FF"}) {
        auto r = c.Get(target);
        ASSERT_TRUE(r) << target << ": no answer (server down?)\n" << s.log();
        EXPECT_EQ(r->status, 400) << target;
        EXPECT_EQ(json::parse(r->body)["type"], "urn:harmony:problem:invalid-request-target");
    }
    auto q = post_audio(c, make_wav_bytes(1.0, 305), "?filename=%C3%28.wav");
    ASSERT_TRUE(q) << s.log();
    EXPECT_EQ(q->status, 400);
    // A multipart file name is not part of the target: kept, with U+FFFD for the bad bytes.
    httplib::MultipartFormDataItems items = {{"file", make_wav_bytes(1.0, 306), "bad\xff\xfe name.wav", "audio/wav"}};
    auto m = c.Post("/v1/jobs", items);
    ASSERT_TRUE(m) << s.log();
    ASSERT_EQ(m->status, 202) << m->body;
    const std::string id = json::parse(m->body)["id"];
    EXPECT_EQ(json::parse(m->body)["source"]["name"], "bad\xef\xbf\xbd\xef\xbf\xbd name.wav");
    const auto done = wait_job(c, id);
    EXPECT_EQ(done["status"], "succeeded") << done.dump();
    s.stop();  // the stored record reads back after a restart
    ASSERT_TRUE(s.start()) << s.log();
    auto c2 = s.client();
    auto st = c2.Get(("/v1/jobs/" + id).c_str());
    ASSERT_TRUE(st) << s.log();
    EXPECT_EQ(st->status, 200);
    EXPECT_EQ(c2.Get("/health")->status, 200);
}

// Issue 19.3 (DNS rebinding): a page on a foreign name that resolves to 127.0.0.1 sends its own
// name as Host and as Origin, which looked same-origin, so it could submit jobs and read results.
// On loopback only loopback names are served unless --allowed-host adds others.
TEST(Security, ForeignHostIsRefusedOnLoopback) {
    TempDir d;
    Server s(d.file("data"));
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    const std::string port = std::to_string(s.port());
    const httplib::Headers evil = {{"Host", "evil.example:" + port}, {"Origin", "http://evil.example:" + port}};
    auto submit = c.Post("/v1/jobs", evil, make_wav_bytes(1.0, 307), "audio/wav");
    ASSERT_TRUE(submit);
    EXPECT_EQ(submit->status, 421) << submit->body;
    auto read = c.Get("/v1/jobs/x", evil);
    ASSERT_TRUE(read);
    EXPECT_EQ(read->status, 421);
    for (const std::string& host :
         {"localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port, std::string("localhost")}) {
        auto ok = c.Get("/health", {{"Host", host}});
        ASSERT_TRUE(ok);
        EXPECT_EQ(ok->status, 200) << host;
    }
    EXPECT_EQ(server::http::host_allowed("music.lan:8717", {"music.lan"}, "127.0.0.1"), true);
    EXPECT_EQ(server::http::host_allowed("evil.example", {"music.lan"}, "127.0.0.1"), false);
    EXPECT_EQ(server::http::host_allowed("anything", {"*"}, "127.0.0.1"), true);
    EXPECT_EQ(server::http::host_allowed("server.example", {}, "0.0.0.0"), true);

    Server named(d.file("data2"), {"--allowed-host", "music.lan"});
    ASSERT_TRUE(named.start()) << named.log();
    auto n = named.client();
    EXPECT_EQ(n.Get("/health", {{"Host", "music.lan:" + std::to_string(named.port())}})->status, 200);
    EXPECT_EQ(n.Get("/health", {{"Host", "evil.example"}})->status, 421);
}

}  // namespace
}  // namespace harmony::test
