// SQLite (WAL) job store: one file in the data dir, a small connection pool (readers never wait
// for the writer in WAL mode), synchronous=FULL so an acknowledged job survives kill -9.
#include <sqlite3.h>

#include <filesystem>
#include <mutex>
#include <thread>

#include "server/job_store.hpp"

namespace harmony::server {

namespace {

constexpr const char* kCols =
    "id, batch_id, state, stage, progress, request_json, source_name, content_hash, result_key, attempts, "
    "max_attempts, error_code, error_message, created_ms, started_ms, finished_ms, cached, audio_path, "
    "audio_owned, audio_bytes, worker, idempotency_key";

Error db_error(sqlite3* db, const std::string& what) {
    return make_error(ErrorCode::kIoError, "job store (sqlite): " + what + ": " + sqlite3_errmsg(db));
}

class Stmt {
public:
    Stmt(sqlite3* db, const char* sql) : db_(db) {
        if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK) st_ = nullptr;
    }
    ~Stmt() { sqlite3_finalize(st_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    bool ok() const { return st_ != nullptr; }
    Stmt& bind(int i, const std::string& v) {
        sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Stmt& bind(int i, std::int64_t v) {
        sqlite3_bind_int64(st_, i, v);
        return *this;
    }
    Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
    Stmt& bind(int i, double v) {
        sqlite3_bind_double(st_, i, v);
        return *this;
    }
    /// SQLITE_ROW, SQLITE_DONE or an error code (busy is retried by busy_timeout).
    int step() { return sqlite3_step(st_); }
    std::string text(int i) const {
        const auto* p = sqlite3_column_text(st_, i);
        return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(st_, i)))
                 : std::string();
    }
    std::int64_t i64(int i) const { return sqlite3_column_int64(st_, i); }
    double dbl(int i) const { return sqlite3_column_double(st_, i); }

private:
    sqlite3* db_;
    sqlite3_stmt* st_ = nullptr;
};

JobRecord row_to_job(const Stmt& s) {
    JobRecord j;
    j.id = s.text(0);
    j.batch_id = s.text(1);
    j.state = parse_job_state(s.text(2)).value_or(JobState::kFailed);
    j.stage = s.text(3);
    j.progress = s.dbl(4);
    j.request_json = s.text(5);
    j.source_name = s.text(6);
    j.content_hash = s.text(7);
    j.result_key = s.text(8);
    j.attempts = static_cast<int>(s.i64(9));
    j.max_attempts = static_cast<int>(s.i64(10));
    j.error_code = s.text(11);
    j.error_message = s.text(12);
    j.created_ms = s.i64(13);
    j.started_ms = s.i64(14);
    j.finished_ms = s.i64(15);
    j.cached = s.i64(16) != 0;
    j.audio_path = s.text(17);
    j.audio_owned = s.i64(18) != 0;
    j.audio_bytes = s.i64(19);
    j.worker = s.text(20);
    j.idempotency_key = s.text(21);
    return j;
}

class SqliteStore final : public JobStore {
public:
    explicit SqliteStore(std::string path) : path_(std::move(path)) {}
    ~SqliteStore() override {
        for (auto* db : pool_) sqlite3_close(db);
    }

    Result<void> init() {
        auto conn = acquire();
        if (!conn) return conn.error();
        sqlite3* db = *conn;
        const char* schema =
            "PRAGMA journal_mode=WAL;"
            "CREATE TABLE IF NOT EXISTS jobs(id TEXT PRIMARY KEY, batch_id TEXT NOT NULL DEFAULT '', state TEXT "
            "NOT NULL, stage TEXT NOT NULL DEFAULT 'queued', progress REAL NOT NULL DEFAULT 0, request_json TEXT NOT "
            "NULL, source_name TEXT NOT NULL, content_hash TEXT NOT NULL, result_key TEXT NOT NULL, attempts INTEGER "
            "NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL, error_code TEXT NOT NULL DEFAULT '', error_message "
            "TEXT NOT NULL DEFAULT '', created_ms INTEGER NOT NULL, started_ms INTEGER NOT NULL DEFAULT 0, "
            "finished_ms INTEGER NOT NULL DEFAULT 0, cached INTEGER NOT NULL DEFAULT 0, audio_path TEXT NOT NULL "
            "DEFAULT '', audio_owned INTEGER NOT NULL DEFAULT 1, audio_bytes INTEGER NOT NULL DEFAULT 0, worker "
            "TEXT NOT NULL DEFAULT '', lease_until_ms INTEGER NOT NULL DEFAULT 0);"
            "CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state);"
            "CREATE INDEX IF NOT EXISTS jobs_batch ON jobs(batch_id);"
            "CREATE TABLE IF NOT EXISTS batches(id TEXT PRIMARY KEY, created_ms INTEGER NOT NULL);"
            "CREATE TABLE IF NOT EXISTS results(key TEXT PRIMARY KEY, json TEXT NOT NULL, created_ms INTEGER NOT "
            "NULL);"
            "CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
            "CREATE TABLE IF NOT EXISTS callbacks(job_id TEXT PRIMARY KEY, url TEXT NOT NULL, state TEXT NOT NULL "
            "DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, next_ms INTEGER NOT NULL DEFAULT 0, last_error "
            "TEXT NOT NULL DEFAULT '', done_ms INTEGER NOT NULL DEFAULT 0);"
            "CREATE INDEX IF NOT EXISTS callbacks_due ON callbacks(state, next_ms);";
        // Added after the first release of the schema: add the column to older stores.
        const char* v2 =
            "CREATE UNIQUE INDEX IF NOT EXISTS jobs_idempotency ON jobs(idempotency_key) WHERE "
            "idempotency_key<>'';";
        if (sqlite3_exec(db, schema, nullptr, nullptr, nullptr) != SQLITE_OK) {
            auto e = db_error(db, "creating the schema");
            release(db);
            return e;
        }
        {
            Stmt has(db, "SELECT 1 FROM pragma_table_info('jobs') WHERE name='idempotency_key'");
            if (has.step() != SQLITE_ROW)
                sqlite3_exec(db, "ALTER TABLE jobs ADD COLUMN idempotency_key TEXT NOT NULL DEFAULT ''", nullptr,
                             nullptr, nullptr);
        }
        if (sqlite3_exec(db, v2, nullptr, nullptr, nullptr) != SQLITE_OK) {
            auto e = db_error(db, "creating the schema");
            release(db);
            return e;
        }
        release(db);
        return {};
    }

    std::string_view kind() const noexcept override { return "sqlite"; }

    Result<void> insert_job(const JobRecord& j, const std::string&) override {
        return in_tx([&](sqlite3* db) -> Result<void> {
            Stmt s(db,
                   "INSERT INTO jobs(id, batch_id, state, stage, progress, request_json, source_name, content_hash, "
                   "result_key, attempts, max_attempts, error_code, error_message, created_ms, started_ms, "
                   "finished_ms, cached, audio_path, audio_owned, audio_bytes, idempotency_key) "
                   "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
            if (!s.ok()) return db_error(db, "insert");
            s.bind(1, j.id).bind(2, j.batch_id).bind(3, std::string(job_state_name(j.state))).bind(4, j.stage);
            s.bind(5, j.progress).bind(6, j.request_json).bind(7, j.source_name).bind(8, j.content_hash);
            s.bind(9, j.result_key).bind(10, j.attempts).bind(11, j.max_attempts).bind(12, j.error_code);
            s.bind(13, j.error_message).bind(14, j.created_ms).bind(15, j.started_ms).bind(16, j.finished_ms);
            s.bind(17, j.cached ? 1 : 0).bind(18, j.audio_path).bind(19, j.audio_owned ? 1 : 0);
            s.bind(20, j.audio_bytes).bind(21, j.idempotency_key);
            if (s.step() != SQLITE_DONE) return db_error(db, "insert");
            if (!j.callback_url.empty()) {  // in the same transaction: a stored job never loses its callback
                Stmt cb(db, "INSERT INTO callbacks(job_id, url) VALUES(?,?)");
                cb.bind(1, j.id).bind(2, j.callback_url);
                if (cb.step() != SQLITE_DONE) return db_error(db, "insert callback");
            }
            return {};
        });
    }

    Result<void> insert_batch(const std::string& id, std::int64_t created_ms) override {
        return with_write([&](sqlite3* db) -> Result<void> {
            Stmt s(db, "INSERT INTO batches(id, created_ms) VALUES(?,?)");
            s.bind(1, id).bind(2, created_ms);
            if (s.step() != SQLITE_DONE) return db_error(db, "insert batch");
            return {};
        });
    }

    Result<bool> batch_exists(const std::string& id) override {
        return with_db([&](sqlite3* db) -> Result<bool> {
            Stmt s(db, "SELECT 1 FROM batches WHERE id=?");
            s.bind(1, id);
            const int rc = s.step();
            if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_error(db, "batch");
            return rc == SQLITE_ROW;
        });
    }

    Result<std::optional<JobRecord>> get_job(const std::string& id) override {
        return with_db([&](sqlite3* db) { return get_job_on(db, id); });
    }

    Result<std::optional<JobRecord>> find_by_idempotency_key(const std::string& key) override {
        return with_db([&](sqlite3* db) -> Result<std::optional<JobRecord>> {
            Stmt s(db, (std::string("SELECT ") + kCols + " FROM jobs WHERE idempotency_key=?").c_str());
            s.bind(1, key);
            const int rc = s.step();
            if (rc == SQLITE_DONE) return std::optional<JobRecord>();
            if (rc != SQLITE_ROW) return db_error(db, "idempotency key");
            return std::optional<JobRecord>(row_to_job(s));
        });
    }

    Result<std::vector<JobRecord>> batch_jobs(const std::string& batch_id) override {
        return with_db([&](sqlite3* db) -> Result<std::vector<JobRecord>> {
            Stmt s(db, (std::string("SELECT ") + kCols + " FROM jobs WHERE batch_id=? ORDER BY rowid").c_str());
            s.bind(1, batch_id);
            std::vector<JobRecord> out;
            int rc;
            while ((rc = s.step()) == SQLITE_ROW) out.push_back(row_to_job(s));
            if (rc != SQLITE_DONE) return db_error(db, "batch jobs");
            return out;
        });
    }

    Result<JobPage> list_jobs(const JobQuery& q) override {
        return with_db([&](sqlite3* db) -> Result<JobPage> {
            std::string sql = std::string("SELECT ") + kCols + ", rowid FROM jobs WHERE 1=1";
            if (!q.states.empty()) {
                sql += " AND state IN (";
                for (std::size_t i = 0; i < q.states.size(); ++i) sql += i ? ",?" : "?";
                sql += ")";
            }
            if (!q.batch_id.empty()) sql += " AND batch_id=?";
            if (q.created_from_ms > 0) sql += " AND created_ms>=?";
            if (q.created_to_ms > 0) sql += " AND created_ms<?";
            if (q.before_seq > 0) sql += " AND rowid<?";
            sql += " ORDER BY rowid DESC LIMIT ?";
            Stmt s(db, sql.c_str());
            int i = 1;
            for (auto st : q.states) s.bind(i++, std::string(job_state_name(st)));
            if (!q.batch_id.empty()) s.bind(i++, q.batch_id);
            if (q.created_from_ms > 0) s.bind(i++, q.created_from_ms);
            if (q.created_to_ms > 0) s.bind(i++, q.created_to_ms);
            if (q.before_seq > 0) s.bind(i++, q.before_seq);
            s.bind(i++, static_cast<std::int64_t>(q.limit) + 1);
            JobPage page;
            std::int64_t last_seq = 0;
            int rc;
            while ((rc = s.step()) == SQLITE_ROW) {
                if (static_cast<int>(page.jobs.size()) == q.limit) {
                    page.next_seq = last_seq;  // one more row exists
                    break;
                }
                page.jobs.push_back(row_to_job(s));
                last_seq = s.i64(22);
            }
            if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_error(db, "list jobs");
            return page;
        });
    }

    Result<std::vector<CallbackDue>> due_callbacks(std::int64_t lease_ms, int limit) override {
        return in_tx([&](sqlite3* db) -> Result<std::vector<CallbackDue>> {
            const auto now = now_ms();
            Stmt s(db,
                   "SELECT c.job_id, c.url, c.attempts FROM callbacks c JOIN jobs j ON j.id=c.job_id WHERE "
                   "c.state='pending' AND c.next_ms<=? AND j.state IN ('succeeded','failed','canceled') ORDER BY "
                   "c.next_ms LIMIT ?");
            s.bind(1, now).bind(2, limit);
            std::vector<CallbackDue> out;
            int rc;
            while ((rc = s.step()) == SQLITE_ROW) out.push_back({s.text(0), s.text(1), static_cast<int>(s.i64(2))});
            if (rc != SQLITE_DONE) return db_error(db, "due callbacks");
            for (const auto& d : out) {
                Stmt u(db, "UPDATE callbacks SET next_ms=? WHERE job_id=?");
                u.bind(1, now + lease_ms).bind(2, d.job_id);
                if (u.step() != SQLITE_DONE) return db_error(db, "due callbacks");
            }
            return out;
        });
    }

    Result<void> record_callback(const std::string& job_id, int attempts, bool delivered, std::int64_t next_ms,
                                 const std::string& error) override {
        return with_write([&](sqlite3* db) -> Result<void> {
            Stmt u(db, "UPDATE callbacks SET state=?, attempts=?, next_ms=?, last_error=?, done_ms=? WHERE job_id=?");
            const std::string state = delivered ? "delivered" : next_ms > 0 ? "pending" : "failed";
            u.bind(1, state).bind(2, attempts).bind(3, next_ms).bind(4, error);
            u.bind(5, state == "pending" ? std::int64_t{0} : now_ms()).bind(6, job_id);
            if (u.step() != SQLITE_DONE) return db_error(db, "record callback");
            return {};
        });
    }

    Result<std::optional<std::pair<std::string, int>>> callback_state(const std::string& job_id) override {
        return with_db([&](sqlite3* db) -> Result<std::optional<std::pair<std::string, int>>> {
            Stmt s(db, "SELECT state, attempts FROM callbacks WHERE job_id=?");
            s.bind(1, job_id);
            const int rc = s.step();
            if (rc == SQLITE_DONE) return std::optional<std::pair<std::string, int>>();
            if (rc != SQLITE_ROW) return db_error(db, "callback state");
            return std::optional<std::pair<std::string, int>>(std::make_pair(s.text(0), static_cast<int>(s.i64(1))));
        });
    }

    Result<std::optional<Claim>> claim(const std::string& worker, std::int64_t lease_ms) override {
        return in_tx([&](sqlite3* db) -> Result<std::optional<Claim>> {
            const auto now = now_ms();
            Stmt exhausted(db,
                           "UPDATE jobs SET state='failed', stage='failed', finished_ms=?1, error_code='internal', "
                           "error_message=CASE WHEN error_message='' THEN 'worker lost (lease expired) after ' || "
                           "attempts || ' attempts' ELSE error_message END WHERE state='running' AND "
                           "lease_until_ms<?1 AND attempts>=max_attempts");
            exhausted.bind(1, now);
            if (exhausted.step() != SQLITE_DONE) return db_error(db, "claim");
            Stmt pick(db,
                      "SELECT id FROM jobs WHERE state='queued' OR (state='running' AND lease_until_ms<?) "
                      "ORDER BY rowid LIMIT 1");
            pick.bind(1, now);
            const int rc = pick.step();
            if (rc == SQLITE_DONE) return std::optional<Claim>();
            if (rc != SQLITE_ROW) return db_error(db, "claim");
            const std::string id = pick.text(0);
            Stmt upd(db,
                     "UPDATE jobs SET state='running', stage='starting', progress=0, attempts=attempts+1, worker=?, "
                     "lease_until_ms=?, started_ms=? WHERE id=?");
            upd.bind(1, worker).bind(2, now + lease_ms).bind(3, now).bind(4, id);
            if (upd.step() != SQLITE_DONE) return db_error(db, "claim");
            auto job = get_job_on(db, id);
            if (!job) return job.error();
            Claim c{**job, (*job)->attempts};
            return std::optional<Claim>(std::move(c));
        });
    }

    Result<bool> heartbeat(const Claim& c, const std::string& stage, double progress, std::int64_t lease_ms) override {
        return with_write([&](sqlite3* db) -> Result<bool> {
            Stmt s(db,
                   "UPDATE jobs SET stage=?, progress=?, lease_until_ms=? WHERE id=? AND worker=? AND attempts=? "
                   "AND state='running'");
            s.bind(1, stage).bind(2, progress).bind(3, now_ms() + lease_ms).bind(4, c.job.id).bind(5, c.job.worker);
            s.bind(6, c.attempt);
            if (s.step() != SQLITE_DONE) return db_error(db, "heartbeat");
            return sqlite3_changes(db) == 1;
        });
    }

    Result<bool> complete(const Claim& c, const std::string& result_json, bool analysed) override {
        return in_tx([&](sqlite3* db) -> Result<bool> {
            const auto now = now_ms();
            Stmt s(db,
                   "UPDATE jobs SET state='succeeded', stage='done', progress=1, finished_ms=?, error_code='', "
                   "error_message='', audio_path=CASE WHEN audio_owned=1 THEN '' ELSE audio_path END WHERE id=? AND "
                   "worker=? AND attempts=? AND state='running'");
            s.bind(1, now).bind(2, c.job.id).bind(3, c.job.worker).bind(4, c.attempt);
            if (s.step() != SQLITE_DONE) return db_error(db, "complete");
            if (sqlite3_changes(db) != 1) return false;
            Stmt r(db, "INSERT OR IGNORE INTO results(key, json, created_ms) VALUES(?,?,?)");
            r.bind(1, c.job.result_key).bind(2, result_json).bind(3, now);
            if (r.step() != SQLITE_DONE) return db_error(db, "store result");
            if (analysed) {
                Stmt n(db,
                       "INSERT INTO counters(name, value) VALUES('analyses', 1) ON CONFLICT(name) DO UPDATE SET "
                       "value=value+1");
                if (n.step() != SQLITE_DONE) return db_error(db, "count");
            }
            return true;
        });
    }

    Result<bool> fail(const Claim& c, const Error& error, bool retryable) override {
        return with_write([&](sqlite3* db) -> Result<bool> {
            Stmt s(db,
                   "UPDATE jobs SET state=CASE WHEN ?1 AND attempts<max_attempts THEN 'queued' ELSE 'failed' END, "
                   "stage=CASE WHEN ?1 AND attempts<max_attempts THEN 'queued' ELSE 'failed' END, "
                   "finished_ms=CASE WHEN ?1 AND attempts<max_attempts THEN 0 ELSE ?2 END, error_code=?3, "
                   "error_message=?4, worker='' WHERE id=?5 AND worker=?6 AND attempts=?7 AND state='running'");
            s.bind(1, retryable ? 1 : 0).bind(2, now_ms()).bind(3, std::string(error_code_name(error.code)));
            s.bind(4, error.message).bind(5, c.job.id).bind(6, c.job.worker).bind(7, c.attempt);
            if (s.step() != SQLITE_DONE) return db_error(db, "fail");
            return sqlite3_changes(db) == 1;
        });
    }

    Result<bool> release(const Claim& c) override {
        return with_write([&](sqlite3* db) -> Result<bool> {
            Stmt s(db,
                   "UPDATE jobs SET state='queued', stage='queued', progress=0, worker='', attempts=attempts-1 "
                   "WHERE id=? AND worker=? AND attempts=? AND state='running'");
            s.bind(1, c.job.id).bind(2, c.job.worker).bind(3, c.attempt);
            if (s.step() != SQLITE_DONE) return db_error(db, "release");
            return sqlite3_changes(db) == 1;
        });
    }

    Result<std::optional<JobRecord>> cancel(const std::string& id) override {
        return in_tx([&](sqlite3* db) -> Result<std::optional<JobRecord>> {
            Stmt s(db,
                   "UPDATE jobs SET state='canceled', stage='canceled', finished_ms=? WHERE id=? AND state IN "
                   "('queued','running')");
            s.bind(1, now_ms()).bind(2, id);
            if (s.step() != SQLITE_DONE) return db_error(db, "cancel");
            return get_job_on(db, id);
        });
    }

    Result<std::optional<std::string>> find_result(const std::string& key) override {
        return with_db([&](sqlite3* db) -> Result<std::optional<std::string>> {
            Stmt s(db, "SELECT json FROM results WHERE key=?");
            s.bind(1, key);
            const int rc = s.step();
            if (rc == SQLITE_DONE) return std::optional<std::string>();
            if (rc != SQLITE_ROW) return db_error(db, "result");
            return std::optional<std::string>(s.text(0));
        });
    }

    Result<void> fetch_audio(const std::string&, const std::string&) override {
        return make_error(ErrorCode::kInternal, "the SQLite store keeps audio as files");
    }

    Result<std::vector<std::string>> release_audio(const std::string& job_id) override {
        return with_write([&](sqlite3* db) -> Result<std::vector<std::string>> {
            Stmt s(db, "SELECT audio_path, audio_owned FROM jobs WHERE id=?");
            s.bind(1, job_id);
            std::vector<std::string> out;
            if (s.step() == SQLITE_ROW && s.i64(1) != 0 && !s.text(0).empty()) out.push_back(s.text(0));
            if (out.empty()) return out;
            Stmt u(db, "UPDATE jobs SET audio_path='' WHERE id=? AND audio_owned=1");
            u.bind(1, job_id);
            if (u.step() != SQLITE_DONE) return db_error(db, "release audio");
            return out;
        });
    }

    Result<int> requeue_running() override {
        return in_tx([&](sqlite3* db) -> Result<int> {
            // A job that was running in each of its attempts when the server died may be what
            // kills it: once its attempts are used up it fails instead of restart-looping the
            // server (each claim counted an attempt, so a crash costs one).
            Stmt f(db,
                   "UPDATE jobs SET state='failed', stage='failed', finished_ms=?, worker='', error_code='internal', "
                   "error_message='the server stopped while the job ran, in each of its ' || attempts || "
                   "' attempts' WHERE state='running' AND attempts>=max_attempts");
            f.bind(1, now_ms());
            if (f.step() != SQLITE_DONE) return db_error(db, "requeue");
            Stmt s(db, "UPDATE jobs SET state='queued', stage='queued', progress=0, worker='' WHERE state='running'");
            if (s.step() != SQLITE_DONE) return db_error(db, "requeue");
            return sqlite3_changes(db);
        });
    }

    Result<std::vector<std::string>> purge_finished(std::int64_t before_ms) override {
        return in_tx([&](sqlite3* db) -> Result<std::vector<std::string>> {
            std::vector<std::string> files;
            const char* fin = "state IN ('succeeded','failed','canceled') AND finished_ms>0 AND finished_ms<?";
            Stmt s(
                db,
                (std::string("SELECT audio_path FROM jobs WHERE audio_owned=1 AND audio_path<>'' AND ") + fin).c_str());
            s.bind(1, before_ms);
            while (s.step() == SQLITE_ROW) files.push_back(s.text(0));
            Stmt d(db, (std::string("DELETE FROM jobs WHERE ") + fin).c_str());
            d.bind(1, before_ms);
            if (d.step() != SQLITE_DONE) return db_error(db, "purge");
            Stmt r(db, "DELETE FROM results WHERE created_ms<? AND key NOT IN (SELECT result_key FROM jobs)");
            r.bind(1, before_ms);
            if (r.step() != SQLITE_DONE) return db_error(db, "purge results");
            Stmt cb(db, "DELETE FROM callbacks WHERE job_id NOT IN (SELECT id FROM jobs)");
            if (cb.step() != SQLITE_DONE) return db_error(db, "purge callbacks");
            Stmt b(db, "DELETE FROM batches WHERE created_ms<? AND id NOT IN (SELECT batch_id FROM jobs)");
            b.bind(1, before_ms);
            if (b.step() != SQLITE_DONE) return db_error(db, "purge batches");
            return files;
        });
    }

    Result<StoreCounts> counts() override {
        return with_db([&](sqlite3* db) -> Result<StoreCounts> {
            StoreCounts c;
            Stmt s(db, "SELECT state, count(*) FROM jobs GROUP BY state");
            int rc;
            while ((rc = s.step()) == SQLITE_ROW) {
                const auto st = parse_job_state(s.text(0));
                const auto n = s.i64(1);
                if (!st) continue;
                switch (*st) {
                    case JobState::kQueued:
                        c.queued = n;
                        break;
                    case JobState::kRunning:
                        c.running = n;
                        break;
                    case JobState::kSucceeded:
                        c.succeeded = n;
                        break;
                    case JobState::kFailed:
                        c.failed = n;
                        break;
                    case JobState::kCanceled:
                        c.canceled = n;
                        break;
                }
            }
            if (rc != SQLITE_DONE) return db_error(db, "counts");
            Stmt a(db, "SELECT value FROM counters WHERE name='analyses'");
            if (a.step() == SQLITE_ROW) c.analyses = a.i64(0);
            return c;
        });
    }

    Result<void> ping() override {
        return with_db([&](sqlite3* db) -> Result<void> {
            Stmt s(db, "SELECT 1");
            if (s.step() != SQLITE_ROW) return db_error(db, "ping");
            return {};
        });
    }

private:
    Result<std::optional<JobRecord>> get_job_on(sqlite3* db, const std::string& id) {
        Stmt s(db, (std::string("SELECT ") + kCols + " FROM jobs WHERE id=?").c_str());
        s.bind(1, id);
        const int rc = s.step();
        if (rc == SQLITE_DONE) return std::optional<JobRecord>();
        if (rc != SQLITE_ROW) return db_error(db, "get job");
        return std::optional<JobRecord>(row_to_job(s));
    }

    Result<sqlite3*> acquire() {
        {
            std::lock_guard lock(mu_);
            if (!pool_.empty()) {
                auto* db = pool_.back();
                pool_.pop_back();
                return db;
            }
        }
        sqlite3* db = nullptr;
        if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                            nullptr) != SQLITE_OK) {
            auto e = make_error(ErrorCode::kIoError, "cannot open job store " + path_);
            sqlite3_close(db);
            return e;
        }
        sqlite3_busy_timeout(db, 30000);
        sqlite3_exec(db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", nullptr, nullptr, nullptr);
        return db;
    }
    void release(sqlite3* db) {
        std::lock_guard lock(mu_);
        if (pool_.size() < 16)
            pool_.push_back(db);
        else
            sqlite3_close(db);
    }

    template <typename F>
    auto with_db(F&& f) -> decltype(f(static_cast<sqlite3*>(nullptr))) {
        auto conn = acquire();
        if (!conn) return conn.error();
        auto r = f(*conn);
        release(*conn);
        return r;
    }

    /// Writes queue on a mutex rather than in SQLite's sleeping busy handler (one writer at a
    /// time either way; readers are not blocked in WAL mode).
    template <typename F>
    auto with_write(F&& f) -> decltype(f(static_cast<sqlite3*>(nullptr))) {
        std::lock_guard lock(write_mu_);
        return with_db(std::forward<F>(f));
    }

    template <typename F>
    auto in_tx(F&& f) -> decltype(f(static_cast<sqlite3*>(nullptr))) {
        return with_write([&](sqlite3* db) -> decltype(f(db)) {
            if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
                return db_error(db, "begin");
            auto r = f(db);
            if (r.ok()) {
                if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
                    auto e = db_error(db, "commit");
                    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
                    return e;
                }
            } else {
                sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
            }
            return r;
        });
    }

    std::string path_;
    std::mutex mu_;        // guards the pool only (held for a push or a pop)
    std::mutex write_mu_;  // serialises writers
    std::vector<sqlite3*> pool_;
};

}  // namespace

Result<std::unique_ptr<JobStore>> open_sqlite_store(const std::string& db_path) {
    auto store = std::make_unique<SqliteStore>(db_path);
    if (auto r = store->init(); !r) return r.error();
    return std::unique_ptr<JobStore>(std::move(store));
}

}  // namespace harmony::server
