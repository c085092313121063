// Scale-out on a real PostgreSQL server (Debian's postgresql, started here on loopback and stopped):
// `harmony serve --db` only enqueues, `harmony worker`s take jobs with FOR UPDATE SKIP LOCKED and a
// heartbeated lease; one worker is killed mid-job and every job still completes exactly once.
// Skipped (with a message) when the PostgreSQL server binaries are not installed.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <thread>

#include "server/job_store.hpp"
#include "server_harness.hpp"
#include "store_listing.hpp"
#include "support/test_support.hpp"

namespace harmony::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const char* kPgBin = "/usr/lib/postgresql/15/bin";

/// A throwaway cluster in a temp dir on 127.0.0.1 (as the `postgres` user when run as root).
class PgCluster {
public:
    bool start(std::string& why) {
        if (!fs::exists(std::string(kPgBin) + "/initdb")) {
            why = "PostgreSQL server not installed (scripts/setup.sh installs postgresql)";
            return false;
        }
        dir_ = (fs::temp_directory_path() / ("harmony-pg-" + std::to_string(getpid()))).string();
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
        if (geteuid() == 0) {
            const passwd* pw = getpwnam("postgres");
            if (pw == nullptr) {
                why = "running as root and there is no 'postgres' user to run the server";
                return false;
            }
            if (chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
                why = "cannot chown the cluster dir";
                return false;
            }
            as_ = {"runuser", "-u", "postgres", "--"};
        }
        port_ = free_port();
        auto r =
            run({std::string(kPgBin) + "/initdb", "-D", dir_ + "/data", "-A", "trust", "-U", "harmony", "--no-sync"});
        if (r.exit_code != 0) {
            why = "initdb failed: " + r.err;
            return false;
        }
        r = run({std::string(kPgBin) + "/pg_ctl", "-D", dir_ + "/data", "-w", "-t", "30", "-l", dir_ + "/log", "-o",
                 "-p " + std::to_string(port_) + " -k " + dir_ + " -c listen_addresses=127.0.0.1 -c fsync=off",
                 "start"});
        if (r.exit_code != 0) {
            why = "pg_ctl start failed: " + r.err + read_file(dir_ + "/log");
            return false;
        }
        started_ = true;
        return true;
    }
    ~PgCluster() {
        if (started_) run({std::string(kPgBin) + "/pg_ctl", "-D", dir_ + "/data", "-m", "immediate", "-w", "stop"});
        std::error_code ec;
        if (!dir_.empty()) fs::remove_all(dir_, ec);
    }
    std::string url(const std::string& db) const {
        return "postgresql://harmony@127.0.0.1:" + std::to_string(port_) + "/" + db;
    }
    bool create_db(const std::string& name) {
        PGconn* c = PQconnectdb(url("postgres").c_str());
        bool ok = PQstatus(c) == CONNECTION_OK;
        if (ok) {
            PGresult* r = PQexec(c, ("CREATE DATABASE " + name).c_str());
            ok = PQresultStatus(r) == PGRES_COMMAND_OK;
            PQclear(r);
        }
        PQfinish(c);
        return ok;
    }
    /// Runs a query, returns rows of text columns.
    std::vector<std::vector<std::string>> query(const std::string& db, const std::string& sql) {
        std::vector<std::vector<std::string>> rows;
        PGconn* c = PQconnectdb(url(db).c_str());
        PGresult* r = PQexec(c, sql.c_str());
        for (int i = 0; i < PQntuples(r); ++i) {
            rows.emplace_back();
            for (int j = 0; j < PQnfields(r); ++j) rows.back().push_back(PQgetvalue(r, i, j));
        }
        PQclear(r);
        PQfinish(c);
        return rows;
    }

private:
    CommandResult run(std::vector<std::string> argv) {
        argv.insert(argv.begin(), as_.begin(), as_.end());
        return run_command(argv, 60);
    }
    std::string dir_;
    std::vector<std::string> as_;
    int port_ = 0;
    bool started_ = false;
};

class Postgres : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        pg_ = new PgCluster();
        if (!pg_->start(why_)) {
            delete pg_;
            pg_ = nullptr;
        }
    }
    static void TearDownTestSuite() {
        delete pg_;
        pg_ = nullptr;
    }
    void SetUp() override {
        if (pg_ == nullptr) GTEST_SKIP() << "skipped: " << why_;
    }
    static PgCluster* pg_;
    static std::string why_;
};
PgCluster* Postgres::pg_ = nullptr;
std::string Postgres::why_;

Child start_worker(const std::string& url, const std::string& log, const std::string& delay_ms) {
    return Child(
        {harmony_bin(), "worker", "--db", url, "--jobs", "1", "--lease", "1.5", "--debug-job-delay-ms", delay_ms}, log);
}

TEST_F(Postgres, StoreListsFiltersAndPages) {
    ASSERT_TRUE(pg_->create_db("listing"));
    auto store = harmony::server::open_postgres_store(pg_->url("listing"));
    ASSERT_TRUE(store) << store.error().message;
    check_store_listing(**store);
}

TEST_F(Postgres, OpeningAnExistingSchemaTakesNoExclusiveLock) {
    // A worker that starts while others are taking jobs must not run DDL on the existing schema:
    // ALTER TABLE locks the jobs table exclusively and deadlocked with a worker mid-transaction.
    ASSERT_TRUE(pg_->create_db("reopen"));
    const auto url = pg_->url("reopen");
    {
        auto first = harmony::server::open_postgres_store(url);
        ASSERT_TRUE(first) << first.error().message;
    }
    PGconn* busy = PQconnectdb(url.c_str());
    ASSERT_EQ(PQstatus(busy), CONNECTION_OK);
    PQclear(PQexec(busy, "BEGIN"));
    PGresult* held = PQexec(busy, "LOCK TABLE harmony_jobs IN ROW EXCLUSIVE MODE");  // as a claiming worker
    ASSERT_EQ(PQresultStatus(held), PGRES_COMMAND_OK) << PQerrorMessage(busy);
    PQclear(held);
    // Any exclusive lock request would now wait; give up after 2 s instead of hanging the test.
    auto second = harmony::server::open_postgres_store(url + "?options=-c%20lock_timeout%3D2000");
    EXPECT_TRUE(second) << second.error().message;
    PQclear(PQexec(busy, "ROLLBACK"));
    PQfinish(busy);
}

TEST_F(Postgres, WorkerFleetCompletesEveryJobExactlyOnceWhenAWorkerDies) {
    ASSERT_TRUE(pg_->create_db("fleet"));
    const auto url = pg_->url("fleet");
    TempDir d;
    Server s(d.file("data"), {"--db", url});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    EXPECT_EQ(json::parse(c.Get("/health")->body)["store"], "postgresql");
    constexpr int kJobs = 8;
    std::vector<std::string> ids;
    for (int i = 0; i < kJobs; ++i) {
        auto r = post_audio(c, make_wav_bytes(2.0, 500 + i));
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, 202) << r->body;
        ids.push_back(json::parse(r->body)["id"]);
    }
    // serve --db only enqueues: nothing runs without workers.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(json::parse(c.Get(("/v1/jobs/" + ids[0]).c_str())->body)["status"], "queued");

    // Jobs are slow (3 s each) so that one worker alone cannot drain the queue before the second one
    // has started, even on a loaded machine.
    Child a = start_worker(url, d.file("worker-a.log"), "3000");
    Child b = start_worker(url, d.file("worker-b.log"), "3000");
    Child extra;
    // Wait (up to 30 s) until both workers hold a job, then kill one of them mid-job.
    bool two_running = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!two_running && std::chrono::steady_clock::now() < deadline) {
        two_running =
            std::stoi(pg_->query("fleet", "SELECT count(*) FROM harmony_jobs WHERE state='running'")[0][0]) >= 2;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ASSERT_TRUE(two_running) << "worker a:\n"
                             << harmony::test::read_file(d.file("worker-a.log")) << "\nworker b:\n"
                             << harmony::test::read_file(d.file("worker-b.log")) << "\nserver:\n"
                             << s.log();
    const auto victim = pg_->query("fleet", "SELECT id FROM harmony_jobs WHERE state='running' AND worker LIKE '%:" +
                                                std::to_string(a.pid()) + "#%'");
    ASSERT_EQ(victim.size(), 1u);
    a.kill9();
    extra = start_worker(url, d.file("worker-c.log"), "200");  // a third machine joins
    for (const auto& id : ids) {
        const auto j = wait_job(c, id, 90000);
        EXPECT_EQ(j["status"], "succeeded") << j.dump();
    }
    const auto rows = pg_->query("fleet", "SELECT id, completions, attempts FROM harmony_jobs");
    ASSERT_EQ(rows.size(), static_cast<size_t>(kJobs));
    for (const auto& r : rows) {
        EXPECT_EQ(r[1], "1") << "job " << r[0] << " completed " << r[1] << " times";
        if (r[0] == victim[0][0]) {
            EXPECT_EQ(r[2], "2");  // taken over after the lease expired
        }
    }
    EXPECT_EQ(json::parse(c.Get("/health")->body)["analyses"], kJobs);
    EXPECT_EQ(pg_->query("fleet", "SELECT count(*) FROM harmony_audio")[0][0], "0");  // audio gone with its jobs
    auto res = c.Get(("/v1/jobs/" + ids[0] + "/result").c_str());
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
}

TEST_F(Postgres, JobFailsAfterMaxAttemptsKeepingTheError) {
    ASSERT_TRUE(pg_->create_db("attempts"));
    const auto url = pg_->url("attempts");
    TempDir d;
    Server s(d.file("data"), {"--db", url, "--max-attempts", "1"});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    auto r = post_audio(c, make_wav_bytes(1.0, 600));
    ASSERT_TRUE(r);
    const std::string id = json::parse(r->body)["id"];
    {
        Child w = start_worker(url, d.file("w1.log"), "30000");
        bool running = false;
        for (int i = 0; i < 400 && !running; ++i) {
            running = json::parse(c.Get(("/v1/jobs/" + id).c_str())->body)["status"] == "running";
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
        ASSERT_TRUE(running);
        w.kill9();
    }
    Child w2 = start_worker(url, d.file("w2.log"), "0");
    const auto j = wait_job(c, id, 30000);
    EXPECT_EQ(j["status"], "failed") << j.dump();
    EXPECT_EQ(j["attempts"], 1);
    EXPECT_NE(j["error"]["detail"].get<std::string>().find("lease expired"), std::string::npos) << j.dump();
}

// Stems stay in the data dir of the process that analysed: with a shared queue that is any
// worker's machine, so the server refuses to keep them (in words) rather than lose them.
TEST_F(Postgres, StemsAreRefusedWithASharedQueue) {
    ASSERT_TRUE(pg_->create_db("stems"));
    TempDir d;
    Server s(d.file("data"), {"--db", pg_->url("stems")});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    auto r = post_audio(c, make_wav_bytes(1.0, 601), "?stems=1");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body;
    EXPECT_NE(r->body.find("SQLite"), std::string::npos) << r->body;
    EXPECT_EQ(json::parse(c.Get("/v1/jobs")->body)["jobs"].size(), 0u);
}

// Graceful drain of a worker: SIGTERM lets its running job finish (no second analysis anywhere)
// and takes no new job; the worker then exits 0.
TEST_F(Postgres, WorkerDrainFinishesItsJobAndTakesNoOther) {
    ASSERT_TRUE(pg_->create_db("drain"));
    const auto url = pg_->url("drain");
    TempDir d;
    Server s(d.file("data"), {"--db", url});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    const std::string first = json::parse(post_audio(c, make_wav_bytes(1.0, 610))->body)["id"];
    Child w = start_worker(url, d.file("w.log"), "1500");
    bool running = false;
    for (int i = 0; i < 400 && !running; ++i) {
        running = json::parse(c.Get(("/v1/jobs/" + first).c_str())->body)["status"] == "running";
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ASSERT_TRUE(running);
    const std::string second = json::parse(post_audio(c, make_wav_bytes(1.0, 611))->body)["id"];
    ASSERT_EQ(::kill(w.pid(), SIGTERM), 0);
    const auto rc = w.wait_exit(15000);
    ASSERT_TRUE(rc.has_value()) << read_file(d.file("w.log"));
    EXPECT_EQ(*rc, 0);
    const auto done = json::parse(c.Get(("/v1/jobs/" + first).c_str())->body);
    EXPECT_EQ(done["status"], "succeeded") << done.dump();
    EXPECT_EQ(done["attempts"], 1);
    const auto waiting = json::parse(c.Get(("/v1/jobs/" + second).c_str())->body);
    EXPECT_EQ(waiting["status"], "queued") << waiting.dump();
    EXPECT_EQ(json::parse(c.Get("/health")->body)["analyses"], 1);
}

// Issue 19.6: `harmony worker --data-dir DIR` removed DIR recursively on SIGTERM, and a killed
// worker left its temporary audio copy behind. Now a worker works in DIR/worker-<host>-<pid>
// (flock-held), removes only that on exit, and sweeps the directories of dead workers on start.
TEST_F(Postgres, WorkerKeepsItsDataDirAndSweepsWhatDeadWorkersLeft) {
    ASSERT_TRUE(pg_->create_db("workdir"));
    const auto url = pg_->url("workdir");
    TempDir d;
    Server s(d.file("data"), {"--db", url});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    const auto dir = d.file("worker-data");
    fs::create_directories(dir);
    write_file(dir + "/keep.txt", "the user's own file");
    auto r = post_audio(c, make_wav_bytes(1.0, 610));
    ASSERT_TRUE(r);
    const std::string id = json::parse(r->body)["id"];
    auto worker_dirs = [&] {
        std::vector<std::string> out;
        for (const auto& e : fs::directory_iterator(dir))
            if (e.path().filename().string().rfind("worker-", 0) == 0) out.push_back(e.path().string());
        return out;
    };
    {
        Child w({harmony_bin(), "worker", "--db", url, "--jobs", "1", "--lease", "1.5", "--debug-job-delay-ms", "30000",
                 "--data-dir", dir},
                d.file("w1.log"));
        bool running = false;
        for (int i = 0; i < 400 && !running; ++i) {
            running = json::parse(c.Get(("/v1/jobs/" + id).c_str())->body)["status"] == "running";
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
        ASSERT_TRUE(running);
        w.kill9();
    }
    ASSERT_EQ(worker_dirs().size(), 1u);  // the dead worker's directory (and any audio copy in it)
    const std::string dead = worker_dirs()[0];
    Child w2({harmony_bin(), "worker", "--db", url, "--jobs", "1", "--lease", "1.5", "--data-dir", dir},
             d.file("w2.log"));
    EXPECT_EQ(wait_job(c, id, 30000)["status"], "succeeded");
    EXPECT_FALSE(fs::exists(dead)) << "the dead worker's directory was not swept";
    EXPECT_EQ(w2.terminate(), 0);
    EXPECT_TRUE(fs::exists(dir + "/keep.txt")) << "the worker removed the user's --data-dir";
    EXPECT_TRUE(worker_dirs().empty());
}

}  // namespace
}  // namespace harmony::test
