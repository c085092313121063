// Durable jobs: kill -9 the server with jobs queued and running, restart it on the same data dir,
// every accepted job completes; kept audio is removed when jobs end and after retention.
#include <gtest/gtest.h>

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

TEST(Durability, GracefulStopGivesRunningJobsBack) {
    TempDir d;
    const auto data = d.file("data");
    std::string id;
    {
        Server s(data, {"--jobs", "1", "--debug-job-delay-ms", "5000"});
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
