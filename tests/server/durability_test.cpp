// Durable jobs: kill -9 the server with jobs queued and running, restart it on the same data dir,
// every accepted job completes; kept audio is removed when jobs end and after retention.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "server_harness.hpp"
#include "support/test_support.hpp"

namespace harmony::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::size_t count_files(const std::string& dir) {
    std::size_t n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) n += e.is_regular_file() ? 1 : 0;
    return n;
}

TEST(Durability, KillDashNineThenRestartCompletesEveryJob) {
    TempDir d;
    const auto data = d.file("data");
    std::vector<std::string> ids;
    {
        // One worker, each job held 1.5 s: when we kill, one job runs and the others wait.
        Server s(data, {"--jobs", "1", "--debug-job-delay-ms", "1500"});
        ASSERT_TRUE(s.start()) << s.log();
        auto c = s.client();
        for (int i = 0; i < 4; ++i) {
            auto r = post_audio(c, make_wav_bytes(2.0, 100 + i));
            ASSERT_TRUE(r);
            ASSERT_EQ(r->status, 202);
            ids.push_back(json::parse(r->body)["id"]);
        }
        bool running = false;
        for (int i = 0; i < 200 && !running; ++i) {
            running = json::parse(c.Get(("/v1/jobs/" + ids[0]).c_str())->body)["status"] == "running";
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ASSERT_TRUE(running);
        EXPECT_EQ(count_files(data + "/audio"), 4u);  // uploads kept until their jobs end
        s.kill9();
    }
    Server s(data, {"--jobs", "2"});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    for (const auto& id : ids) {
        const auto j = wait_job(c, id, 60000);
        EXPECT_EQ(j["status"], "succeeded") << j.dump();
    }
    // The interrupted job ran again (attempt 2); the others ran once.
    EXPECT_EQ(wait_job(c, ids[0])["attempts"], 2);
    EXPECT_EQ(wait_job(c, ids[3])["attempts"], 1);
    const auto h = json::parse(c.Get("/health")->body);
    EXPECT_EQ(h["jobs"]["succeeded"], 4);
    EXPECT_EQ(h["analyses"], 4);
    for (int i = 0; i < 100 && count_files(data + "/audio") > 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(count_files(data + "/audio"), 0u);
    EXPECT_NE(s.log().find("requeued 1 interrupted job"), std::string::npos) << s.log();
}

// Issue 19.5: a job that is running each time the server is killed (a file that crashes it) was
// requeued on every restart and never failed (attempt 6 of 3); it now fails once its attempts
// are used up, and the other jobs complete.
TEST(Durability, AJobKilledInEveryAttemptFailsAfterMaxAttempts) {
    TempDir d;
    const auto data = d.file("data");
    std::string poisoned, other;
    for (int round = 0; round < 3; ++round) {
        Server s(data, {"--jobs", "1", "--max-attempts", "3", "--debug-job-delay-ms", "20000"});
        ASSERT_TRUE(s.start()) << s.log();
        auto c = s.client();
        if (round == 0) {
            auto r = post_audio(c, make_wav_bytes(1.0, 120));
            ASSERT_TRUE(r);
            poisoned = json::parse(r->body)["id"];
            auto r2 = post_audio(c, make_wav_bytes(1.0, 121));
            ASSERT_TRUE(r2);
            other = json::parse(r2->body)["id"];
        }
        bool running = false;
        for (int i = 0; i < 500 && !running; ++i) {
            running = json::parse(c.Get(("/v1/jobs/" + poisoned).c_str())->body)["status"] == "running";
            if (!running) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ASSERT_TRUE(running) << "round " << round << "\n" << s.log();
        s.kill9();
    }
    Server s(data, {"--jobs", "1", "--max-attempts", "3"});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    const auto p = wait_job(c, poisoned, 30000);
    EXPECT_EQ(p["status"], "failed") << p.dump();
    EXPECT_EQ(p["attempts"], 3) << p.dump();
    EXPECT_EQ(wait_job(c, other, 60000)["status"], "succeeded");
}

bool wait_running(httplib::Client& c, const std::string& id) {
    for (int i = 0; i < 1000; ++i) {
        if (json::parse(c.Get(("/v1/jobs/" + id).c_str())->body)["status"] == "running") return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Issue 19: graceful drain on SIGTERM. The running job finishes (it is not analysed twice), the
// queued one is not started, an idle keep-alive connection is closed at once, new connections
// are refused, and the process exits 0 as soon as nothing is left.
TEST(Durability, DrainLetsTheRunningJobFinishAndTakesNoNewOne) {
    TempDir d;
    const auto data = d.file("data");
    std::string running, queued;
    {
        Server s(data, {"--jobs", "1", "--debug-job-delay-ms", "1500", "--drain-timeout", "20"});
        ASSERT_TRUE(s.start()) << s.log();
        auto c = s.client();
        running = json::parse(post_audio(c, make_wav_bytes(1.0, 160))->body)["id"];
        ASSERT_TRUE(wait_running(c, running));
        queued = json::parse(post_audio(c, make_wav_bytes(1.0, 161))->body)["id"];
        const int idle = connect_loopback(s.port());  // a keep-alive client between requests
        ASSERT_GE(idle, 0);
        const auto t0 = std::chrono::steady_clock::now();
        ASSERT_EQ(::kill(s.pid(), SIGTERM), 0);
        EXPECT_TRUE(closed_within(idle, 1000)) << "an idle connection must not hold the drain";
        ::close(idle);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        EXPECT_LT(connect_loopback(s.port()), 0) << "a draining server accepts no new connection";
        const auto rc = s.wait_exit(15000);
        ASSERT_TRUE(rc.has_value()) << "the drain did not end once the job finished\n" << s.log();
        EXPECT_EQ(*rc, 0);
        EXPECT_LT(seconds_since(t0), 10.0);
        EXPECT_NE(s.log().find("draining"), std::string::npos) << s.log();
    }
    Server s(data, {"--jobs", "0"});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    const auto done = json::parse(c.Get(("/v1/jobs/" + running).c_str())->body);
    EXPECT_EQ(done["status"], "succeeded") << done.dump();
    EXPECT_EQ(done["attempts"], 1);
    const auto waiting = json::parse(c.Get(("/v1/jobs/" + queued).c_str())->body);
    EXPECT_EQ(waiting["status"], "queued") << "a draining server must not start a job: " << waiting.dump();
    EXPECT_EQ(waiting["attempts"], 0);
}

// An upload in flight when SIGTERM arrives is read to the end and answered (202, Connection:
// close), and its job is stored for the next start.
TEST(Durability, DrainAnswersAnUploadInFlight) {
    TempDir d;
    const auto data = d.file("data");
    std::string id;
    {
        Server s(data, {"--jobs", "0", "--drain-timeout", "20"});
        ASSERT_TRUE(s.start()) << s.log();
        const auto wav = make_wav_bytes(2.0, 170);
        const int fd = connect_loopback(s.port());
        ASSERT_GE(fd, 0);
        const std::string head =
            "POST /v1/jobs?filename=inflight.wav HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: audio/wav\r\nContent-Length: " +
            std::to_string(wav.size()) + "\r\n\r\n";
        const std::size_t half = wav.size() / 2;
        ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
        ASSERT_EQ(::send(fd, wav.data(), half, MSG_NOSIGNAL), static_cast<ssize_t>(half));
        std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the server is reading the body
        ASSERT_EQ(::kill(s.pid(), SIGTERM), 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        const std::size_t rest = wav.size() - half;
        ASSERT_EQ(::send(fd, wav.data() + half, rest, MSG_NOSIGNAL), static_cast<ssize_t>(rest));
        std::string reply;
        char buf[4096];
        for (;;) {
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) break;
            reply.append(buf, static_cast<std::size_t>(n));
        }
        ::close(fd);
        ASSERT_EQ(reply.rfind("HTTP/1.1 202", 0), 0u) << reply;
        EXPECT_NE(reply.find("Connection: close"), std::string::npos) << reply;
        const auto body = json::parse(reply.substr(reply.find("\r\n\r\n") + 4));
        id = body["id"];
        const auto rc = s.wait_exit(10000);
        ASSERT_TRUE(rc.has_value()) << s.log();
        EXPECT_EQ(*rc, 0);
    }
    Server s(data, {"--jobs", "1"});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    const auto j = wait_job(c, id, 60000);
    EXPECT_EQ(j["status"], "succeeded") << j.dump();
    EXPECT_EQ(j["source"]["name"], "inflight.wav");
}

// A second signal ends the drain at once: the running job goes back to the queue.
TEST(Durability, SecondSignalStopsTheDrainAtOnce) {
    TempDir d;
    const auto data = d.file("data");
    std::string id;
    {
        Server s(data, {"--jobs", "1", "--debug-job-delay-ms", "30000", "--drain-timeout", "60"});
        ASSERT_TRUE(s.start()) << s.log();
        auto c = s.client();
        id = json::parse(post_audio(c, make_wav_bytes(1.0, 180))->body)["id"];
        ASSERT_TRUE(wait_running(c, id));
        ASSERT_EQ(::kill(s.pid(), SIGTERM), 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        EXPECT_FALSE(s.wait_exit(50).has_value()) << "the first signal waits for the running job";
        const auto t0 = std::chrono::steady_clock::now();
        ASSERT_EQ(::kill(s.pid(), SIGINT), 0);
        const auto rc = s.wait_exit(5000);
        ASSERT_TRUE(rc.has_value()) << s.log();
        EXPECT_EQ(*rc, 0);
        EXPECT_LT(seconds_since(t0), 3.0);
        EXPECT_NE(s.log().find("given back to the queue"), std::string::npos) << s.log();
    }
    Server s(data, {"--jobs", "0"});
    ASSERT_TRUE(s.start()) << s.log();
    const auto j = json::parse(s.client().Get(("/v1/jobs/" + id).c_str())->body);
    EXPECT_EQ(j["status"], "queued") << j.dump();
}

TEST(Durability, GracefulStopGivesRunningJobsBack) {
    TempDir d;
    const auto data = d.file("data");
    std::string id;
    {
        // --drain-timeout 0: the running job is given back at once instead of finishing.
        Server s(data, {"--jobs", "1", "--debug-job-delay-ms", "5000", "--drain-timeout", "0"});
        ASSERT_TRUE(s.start()) << s.log();
        auto c = s.client();
        auto r = post_audio(c, make_wav_bytes(1.0, 150));
        ASSERT_TRUE(r);
        id = json::parse(r->body)["id"];
        bool running = false;
        for (int i = 0; i < 200 && !running; ++i) {
            running = json::parse(c.Get(("/v1/jobs/" + id).c_str())->body)["status"] == "running";
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ASSERT_TRUE(running);
        EXPECT_EQ(s.stop(), 0);  // SIGTERM: exits promptly, the job goes back to the queue
    }
    Server s(data, {"--jobs", "1"});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    const auto j = wait_job(c, id, 60000);
    EXPECT_EQ(j["status"], "succeeded") << j.dump();
    EXPECT_EQ(j["attempts"], 1);  // the interrupted attempt was given back, not counted
}

TEST(Durability, RetentionRemovesFinishedJobs) {
    TempDir d;
    Server s(d.file("data"), {"--jobs", "1", "--retention", "1s"});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    auto r = post_audio(c, make_wav_bytes(1.0, 200));
    ASSERT_TRUE(r);
    const std::string id = json::parse(r->body)["id"];
    EXPECT_EQ(wait_job(c, id)["status"], "succeeded");
    int status = 200;
    for (int i = 0; i < 150 && status == 200; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        status = c.Get(("/v1/jobs/" + id).c_str())->status;
    }
    EXPECT_EQ(status, 404);
}

}  // namespace
}  // namespace harmony::test
