// PostgreSQL job store for a fleet of workers: claims with FOR UPDATE SKIP LOCKED, leases on the
// database clock extended by heartbeats, a fencing token (worker + attempt) on every write so a job
// completes exactly once, audio in a bytea table so workers on any machine can read it.
#include <libpq-fe.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string_view>

#include "server/job_store.hpp"

namespace harmony::server {

namespace {

using PgResult = std::unique_ptr<PGresult, decltype(&PQclear)>;

struct Params {
    std::vector<std::string> values;
    std::vector<int> formats;
    Params& add(std::string v, bool binary = false) {
        values.push_back(std::move(v));
        formats.push_back(binary ? 1 : 0);
        return *this;
    }
    Params& add(std::int64_t v) { return add(std::to_string(v)); }
    Params& add(int v) { return add(std::to_string(v)); }
    Params& add(double v) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.17g", v);
        return add(std::string(buf));
    }
    Params& add(bool v) { return add(std::string(v ? "true" : "false")); }
};

constexpr int kSchemaAttempts = 3;
// SQLSTATE of "deadlock detected" (the message text depends on the server's lc_messages).
constexpr std::string_view kDeadlockDetected = "40P01";
constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS harmony_jobs(seq BIGSERIAL, id TEXT PRIMARY KEY, batch_id TEXT NOT NULL DEFAULT "
    "'', state TEXT NOT NULL, stage TEXT NOT NULL DEFAULT 'queued', progress DOUBLE PRECISION NOT NULL DEFAULT 0, "
    "request_json TEXT NOT NULL, source_name TEXT NOT NULL, content_hash TEXT NOT NULL, result_key TEXT NOT NULL, "
    "attempts INT NOT NULL DEFAULT 0, max_attempts INT NOT NULL, error_code TEXT NOT NULL DEFAULT '', "
    "error_message TEXT NOT NULL DEFAULT '', created_ms BIGINT NOT NULL, started_ms BIGINT NOT NULL DEFAULT 0, "
    "finished_ms BIGINT NOT NULL DEFAULT 0, cached BOOLEAN NOT NULL DEFAULT false, audio_path TEXT NOT NULL "
    "DEFAULT '', audio_owned BOOLEAN NOT NULL DEFAULT true, audio_bytes BIGINT NOT NULL DEFAULT 0, worker TEXT NOT "
    "NULL DEFAULT '', lease_until TIMESTAMPTZ, completions INT NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS harmony_jobs_queue ON harmony_jobs(state, seq);"
    "CREATE INDEX IF NOT EXISTS harmony_jobs_batch ON harmony_jobs(batch_id);"
    "CREATE TABLE IF NOT EXISTS harmony_audio(job_id TEXT PRIMARY KEY, data BYTEA NOT NULL);"
    "CREATE TABLE IF NOT EXISTS harmony_batches(id TEXT PRIMARY KEY, created_ms BIGINT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS harmony_results(key TEXT PRIMARY KEY, json TEXT NOT NULL, created_ms BIGINT NOT "
    "NULL);"
    "CREATE TABLE IF NOT EXISTS harmony_counters(name TEXT PRIMARY KEY, value BIGINT NOT NULL);"
    "ALTER TABLE harmony_jobs ADD COLUMN IF NOT EXISTS idempotency_key TEXT NOT NULL DEFAULT '';"
    "CREATE UNIQUE INDEX IF NOT EXISTS harmony_jobs_idempotency ON harmony_jobs(idempotency_key) WHERE "
    "idempotency_key<>'';"
    "CREATE TABLE IF NOT EXISTS harmony_callbacks(job_id TEXT PRIMARY KEY, url TEXT NOT NULL, state TEXT NOT NULL "
    "DEFAULT 'pending', attempts INT NOT NULL DEFAULT 0, next_ms BIGINT NOT NULL DEFAULT 0, last_error TEXT NOT "
    "NULL DEFAULT '', done_ms BIGINT NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS harmony_callbacks_due ON harmony_callbacks(state, next_ms);";

std::string field(const PGresult* r, int row, const char* name) {
    const int c = PQfnumber(r, name);
    if (c < 0 || PQgetisnull(r, row, c)) return {};
    return std::string(PQgetvalue(r, row, c), static_cast<size_t>(PQgetlength(r, row, c)));
}

JobRecord row_to_job(const PGresult* r, int row) {
    auto i64 = [&](const char* n) {
        const auto s = field(r, row, n);
        return s.empty() ? 0LL : std::stoll(s);
    };
    JobRecord j;
    j.id = field(r, row, "id");
    j.batch_id = field(r, row, "batch_id");
    j.state = parse_job_state(field(r, row, "state")).value_or(JobState::kFailed);
    j.stage = field(r, row, "stage");
    const auto p = field(r, row, "progress");
    j.progress = p.empty() ? 0.0 : std::stod(p);
    j.request_json = field(r, row, "request_json");
    j.source_name = field(r, row, "source_name");
    j.content_hash = field(r, row, "content_hash");
    j.result_key = field(r, row, "result_key");
    j.attempts = static_cast<int>(i64("attempts"));
    j.max_attempts = static_cast<int>(i64("max_attempts"));
    j.error_code = field(r, row, "error_code");
    j.error_message = field(r, row, "error_message");
    j.created_ms = i64("created_ms");
    j.started_ms = i64("started_ms");
    j.finished_ms = i64("finished_ms");
    j.cached = field(r, row, "cached") == "t";
    j.audio_path = field(r, row, "audio_path");
    j.audio_owned = field(r, row, "audio_owned") == "t";
    j.audio_bytes = i64("audio_bytes");
    j.worker = field(r, row, "worker");
    j.idempotency_key = field(r, row, "idempotency_key");
    return j;
}

class PgStore final : public JobStore {
public:
    explicit PgStore(std::string conninfo) : conninfo_(std::move(conninfo)) {}
    ~PgStore() override {
        for (auto* c : pool_) PQfinish(c);
    }
    std::string_view kind() const noexcept override { return "postgresql"; }

    Result<void> init() {
        return with_conn([&](PGconn* c) -> Result<void> {
            // Several workers may start at once: create the schema under an advisory lock. Once it
            // is complete (its last object exists) no DDL runs: ALTER TABLE takes an exclusive lock
            // and deadlocks with workers already taking jobs. An upgrade that must run it retries
            // when PostgreSQL picks it as the deadlock victim.
            if (auto r = run(c, "SELECT pg_advisory_lock(717171)", {}); !r) return r.error();
            Result<void> r{};
            auto done = run(c, "SELECT to_regclass('harmony_callbacks_due') IS NOT NULL", {});
            if (!done) {
                r = done.error();
            } else if (PQntuples(done->get()) != 1 || std::string_view(PQgetvalue(done->get(), 0, 0)) != "t") {
                for (int attempt = 0; attempt < kSchemaAttempts; ++attempt) {
                    std::string sqlstate;
                    r = simple(c, kSchema, &sqlstate);
                    if (r || sqlstate != kDeadlockDetected) break;
                }
            }
            (void)run(c, "SELECT pg_advisory_unlock(717171)", {});
            return r;
        });
    }

    Result<void> insert_job(const JobRecord& j, const std::string& audio_file) override {
        std::string audio;
        const bool with_audio = j.audio_owned && !audio_file.empty() && !j.cached;
        if (with_audio) {
            std::ifstream f(audio_file, std::ios::binary);
            if (!f) return make_error(ErrorCode::kIoError, "cannot read the upload");
            std::ostringstream ss;
            ss << f.rdbuf();
            audio = std::move(ss).str();
        }
        return tx([&](PGconn* c) -> Result<void> {
            if (with_audio) {
                Params p;
                p.add(j.id).add(std::move(audio), true);
                if (auto r = run(c, "INSERT INTO harmony_audio(job_id, data) VALUES($1, $2)", p); !r) return r.error();
            }
            Params p;
            p.add(j.id).add(j.batch_id).add(std::string(job_state_name(j.state))).add(j.stage).add(j.progress);
            p.add(j.request_json).add(j.source_name).add(j.content_hash).add(j.result_key).add(j.attempts);
            p.add(j.max_attempts).add(j.error_code).add(j.error_message).add(j.created_ms).add(j.started_ms);
            p.add(j.finished_ms).add(j.cached).add(j.audio_path).add(j.audio_owned).add(j.audio_bytes);
            p.add(j.idempotency_key);
            auto r = run(c,
                         "INSERT INTO harmony_jobs(id, batch_id, state, stage, progress, request_json, source_name, "
                         "content_hash, result_key, attempts, max_attempts, error_code, error_message, created_ms, "
                         "started_ms, finished_ms, cached, audio_path, audio_owned, audio_bytes, idempotency_key) "
                         "VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21)",
                         p);
            if (!r) return r.error();
            if (!j.callback_url.empty())  // in the same transaction: a stored job never loses its callback
                if (auto cb = run(c, "INSERT INTO harmony_callbacks(job_id, url) VALUES($1,$2)",
                                  Params().add(j.id).add(j.callback_url));
                    !cb)
                    return cb.error();
            return {};
        });
    }

    Result<void> insert_batch(const std::string& id, std::int64_t created_ms) override {
        return with_conn([&](PGconn* c) -> Result<void> {
            auto r =
                run(c, "INSERT INTO harmony_batches(id, created_ms) VALUES($1,$2)", Params().add(id).add(created_ms));
            if (!r) return r.error();
            return {};
        });
    }

    Result<bool> batch_exists(const std::string& id) override {
        return with_conn([&](PGconn* c) -> Result<bool> {
            auto r = run(c, "SELECT 1 FROM harmony_batches WHERE id=$1", Params().add(id));
            if (!r) return r.error();
            return PQntuples(r->get()) > 0;
        });
    }

    Result<std::optional<JobRecord>> get_job(const std::string& id) override {
        return with_conn([&](PGconn* c) -> Result<std::optional<JobRecord>> {
            auto r = run(c, "SELECT * FROM harmony_jobs WHERE id=$1", Params().add(id));
            if (!r) return r.error();
            if (PQntuples(r->get()) == 0) return std::optional<JobRecord>();
            return std::optional<JobRecord>(row_to_job(r->get(), 0));
        });
    }

    Result<std::optional<JobRecord>> find_by_idempotency_key(const std::string& key) override {
        return with_conn([&](PGconn* c) -> Result<std::optional<JobRecord>> {
            auto r = run(c, "SELECT * FROM harmony_jobs WHERE idempotency_key=$1", Params().add(key));
            if (!r) return r.error();
            if (PQntuples(r->get()) == 0) return std::optional<JobRecord>();
            return std::optional<JobRecord>(row_to_job(r->get(), 0));
        });
    }

    Result<std::vector<JobRecord>> batch_jobs(const std::string& batch_id) override {
        return with_conn([&](PGconn* c) -> Result<std::vector<JobRecord>> {
            auto r = run(c, "SELECT * FROM harmony_jobs WHERE batch_id=$1 ORDER BY seq", Params().add(batch_id));
            if (!r) return r.error();
            std::vector<JobRecord> out;
            for (int i = 0; i < PQntuples(r->get()); ++i) out.push_back(row_to_job(r->get(), i));
            return out;
        });
    }

    Result<JobPage> list_jobs(const JobQuery& q) override {
        return with_conn([&](PGconn* c) -> Result<JobPage> {
            std::string sql = "SELECT * FROM harmony_jobs WHERE true";
            Params p;
            int n = 0;
            auto arg = [&] { return "$" + std::to_string(++n); };
            if (!q.states.empty()) {
                sql += " AND state IN (";
                for (std::size_t i = 0; i < q.states.size(); ++i) {
                    sql += (i ? "," : "") + arg();
                    p.add(std::string(job_state_name(q.states[i])));
                }
                sql += ")";
            }
            if (!q.batch_id.empty()) {
                sql += " AND batch_id=" + arg();
                p.add(q.batch_id);
            }
            if (q.created_from_ms > 0) {
                sql += " AND created_ms>=" + arg();
                p.add(q.created_from_ms);
            }
            if (q.created_to_ms > 0) {
                sql += " AND created_ms<" + arg();
                p.add(q.created_to_ms);
            }
            if (q.before_seq > 0) {
                sql += " AND seq<" + arg();
                p.add(q.before_seq);
            }
            sql += " ORDER BY seq DESC LIMIT " + arg();
            p.add(static_cast<std::int64_t>(q.limit) + 1);
            auto r = run(c, sql.c_str(), p);
            if (!r) return r.error();
            JobPage page;
            const int rows = PQntuples(r->get());
            for (int i = 0; i < rows && i < q.limit; ++i) page.jobs.push_back(row_to_job(r->get(), i));
            if (rows > q.limit) page.next_seq = std::stoll(field(r->get(), q.limit - 1, "seq"));
            return page;
        });
    }

    Result<std::vector<CallbackDue>> due_callbacks(std::int64_t lease_ms, int limit) override {
        return with_conn([&](PGconn* c) -> Result<std::vector<CallbackDue>> {
            const auto now = now_ms();
            auto r = run(c,
                         "UPDATE harmony_callbacks SET next_ms=$1+$2 WHERE job_id IN (SELECT c.job_id FROM "
                         "harmony_callbacks c JOIN harmony_jobs j ON j.id=c.job_id WHERE c.state='pending' AND "
                         "c.next_ms<=$1 AND j.state IN ('succeeded','failed','canceled') ORDER BY c.next_ms LIMIT $3 "
                         "FOR UPDATE OF c SKIP LOCKED) RETURNING job_id, url, attempts",
                         Params().add(now).add(lease_ms).add(limit));
            if (!r) return r.error();
            std::vector<CallbackDue> out;
            for (int i = 0; i < PQntuples(r->get()); ++i)
                out.push_back({field(r->get(), i, "job_id"), field(r->get(), i, "url"),
                               std::stoi(field(r->get(), i, "attempts"))});
            return out;
        });
    }

    Result<void> record_callback(const std::string& job_id, int attempts, bool delivered, std::int64_t next_ms,
                                 const std::string& error) override {
        return with_conn([&](PGconn* c) -> Result<void> {
            const std::string state = delivered ? "delivered" : next_ms > 0 ? "pending" : "failed";
            auto r = run(c,
                         "UPDATE harmony_callbacks SET state=$1, attempts=$2, next_ms=$3, last_error=$4, done_ms=$5 "
                         "WHERE job_id=$6",
                         Params()
                             .add(state)
                             .add(attempts)
                             .add(next_ms)
                             .add(error)
                             .add(state == "pending" ? std::int64_t{0} : now_ms())
                             .add(job_id));
            if (!r) return r.error();
            return {};
        });
    }

    Result<std::optional<std::pair<std::string, int>>> callback_state(const std::string& job_id) override {
        return with_conn([&](PGconn* c) -> Result<std::optional<std::pair<std::string, int>>> {
            auto r = run(c, "SELECT state, attempts FROM harmony_callbacks WHERE job_id=$1", Params().add(job_id));
            if (!r) return r.error();
            if (PQntuples(r->get()) == 0) return std::optional<std::pair<std::string, int>>();
            return std::optional<std::pair<std::string, int>>(
                std::make_pair(field(r->get(), 0, "state"), std::stoi(field(r->get(), 0, "attempts"))));
        });
    }

    Result<std::optional<Claim>> claim(const std::string& worker, std::int64_t lease_ms) override {
        return with_conn([&](PGconn* c) -> Result<std::optional<Claim>> {
            const auto now = now_ms();
            // Jobs whose worker vanished with no attempts left fail, keeping the last error.
            auto e = run(c,
                         "WITH exhausted AS (UPDATE harmony_jobs SET state='failed', stage='failed', finished_ms=$1, "
                         "error_code=CASE WHEN error_code='' THEN 'internal' ELSE error_code END, "
                         "error_message=CASE WHEN error_message='' THEN 'worker lost (lease expired) after ' || "
                         "attempts || ' attempts' ELSE error_message END WHERE state='running' AND lease_until < "
                         "clock_timestamp() AND attempts >= max_attempts RETURNING id) "
                         "DELETE FROM harmony_audio WHERE job_id IN (SELECT id FROM exhausted)",
                         Params().add(now));
            if (!e) return e.error();
            auto r = run(c,
                         "WITH picked AS (SELECT id FROM harmony_jobs WHERE state='queued' OR (state='running' AND "
                         "lease_until < clock_timestamp() AND attempts < max_attempts) ORDER BY seq LIMIT 1 FOR "
                         "UPDATE SKIP LOCKED) "
                         "UPDATE harmony_jobs j SET state='running', stage='starting', progress=0, "
                         "attempts=j.attempts+1, worker=$1, lease_until=clock_timestamp() + $2 * interval '1 "
                         "millisecond', started_ms=$3 FROM picked WHERE j.id=picked.id RETURNING j.*",
                         Params().add(worker).add(lease_ms).add(now));
            if (!r) return r.error();
            if (PQntuples(r->get()) == 0) return std::optional<Claim>();
            Claim cl{row_to_job(r->get(), 0), 0};
            cl.attempt = cl.job.attempts;
            return std::optional<Claim>(std::move(cl));
        });
    }

    Result<bool> heartbeat(const Claim& cl, const std::string& stage, double progress, std::int64_t lease_ms) override {
        return with_conn([&](PGconn* c) -> Result<bool> {
            auto r =
                run(c,
                    "UPDATE harmony_jobs SET stage=$1, progress=$2, lease_until=clock_timestamp() + $3 * "
                    "interval '1 millisecond' WHERE id=$4 AND worker=$5 AND attempts=$6 AND state='running'",
                    Params().add(stage).add(progress).add(lease_ms).add(cl.job.id).add(cl.job.worker).add(cl.attempt));
            if (!r) return r.error();
            return std::string(PQcmdTuples(r->get())) == "1";
        });
    }

    Result<bool> complete(const Claim& cl, const std::string& result_json, bool analysed) override {
        return tx([&](PGconn* c) -> Result<bool> {
            const auto now = now_ms();
            auto r = run(c,
                         "UPDATE harmony_jobs SET state='succeeded', stage='done', progress=1, finished_ms=$1, "
                         "error_code='', error_message='', completions=completions+1 WHERE id=$2 AND worker=$3 AND "
                         "attempts=$4 AND state='running'",
                         Params().add(now).add(cl.job.id).add(cl.job.worker).add(cl.attempt));
            if (!r) return r.error();
            if (std::string(PQcmdTuples(r->get())) != "1") return false;
            auto s = run(c,
                         "INSERT INTO harmony_results(key, json, created_ms) VALUES($1,$2,$3) ON CONFLICT (key) DO "
                         "NOTHING",
                         Params().add(cl.job.result_key).add(result_json).add(now));
            if (!s) return s.error();
            if (analysed) {
                auto n = run(c,
                             "INSERT INTO harmony_counters(name, value) VALUES('analyses', 1) ON CONFLICT (name) DO "
                             "UPDATE SET value=harmony_counters.value+1",
                             {});
                if (!n) return n.error();
            }
            auto d = run(c, "DELETE FROM harmony_audio WHERE job_id=$1", Params().add(cl.job.id));
            if (!d) return d.error();
            return true;
        });
    }

    Result<bool> fail(const Claim& cl, const Error& error, bool retryable) override {
        return with_conn([&](PGconn* c) -> Result<bool> {
            auto r = run(c,
                         "UPDATE harmony_jobs SET state=CASE WHEN $1::boolean AND attempts<max_attempts THEN "
                         "'queued' ELSE 'failed' END, stage=CASE WHEN $1::boolean AND attempts<max_attempts THEN "
                         "'queued' ELSE 'failed' END, finished_ms=CASE WHEN $1::boolean AND attempts<max_attempts "
                         "THEN 0 ELSE $2 END, error_code=$3, error_message=$4, worker='' WHERE id=$5 AND worker=$6 "
                         "AND attempts=$7 AND state='running'",
                         Params()
                             .add(retryable)
                             .add(now_ms())
                             .add(std::string(error_code_name(error.code)))
                             .add(error.message)
                             .add(cl.job.id)
                             .add(cl.job.worker)
                             .add(cl.attempt));
            if (!r) return r.error();
            return std::string(PQcmdTuples(r->get())) == "1";
        });
    }

    Result<bool> release(const Claim& cl) override {
        return with_conn([&](PGconn* c) -> Result<bool> {
            auto r = run(c,
                         "UPDATE harmony_jobs SET state='queued', stage='queued', progress=0, worker='', "
                         "attempts=attempts-1, lease_until=NULL WHERE id=$1 AND worker=$2 AND attempts=$3 AND "
                         "state='running'",
                         Params().add(cl.job.id).add(cl.job.worker).add(cl.attempt));
            if (!r) return r.error();
            return std::string(PQcmdTuples(r->get())) == "1";
        });
    }

    Result<std::optional<JobRecord>> cancel(const std::string& id) override {
        return tx([&](PGconn* c) -> Result<std::optional<JobRecord>> {
            // A queued job's audio goes now; a running one's when its worker stops.
            auto d = run(c,
                         "DELETE FROM harmony_audio WHERE job_id=$1 AND EXISTS (SELECT 1 FROM harmony_jobs WHERE "
                         "id=$1 AND state='queued')",
                         Params().add(id));
            if (!d) return d.error();
            auto u = run(c,
                         "UPDATE harmony_jobs SET state='canceled', stage='canceled', finished_ms=$1 WHERE id=$2 "
                         "AND state IN ('queued','running')",
                         Params().add(now_ms()).add(id));
            if (!u) return u.error();
            auto r = run(c, "SELECT * FROM harmony_jobs WHERE id=$1", Params().add(id));
            if (!r) return r.error();
            if (PQntuples(r->get()) == 0) return std::optional<JobRecord>();
            return std::optional<JobRecord>(row_to_job(r->get(), 0));
        });
    }

    Result<std::optional<std::string>> find_result(const std::string& key) override {
        return with_conn([&](PGconn* c) -> Result<std::optional<std::string>> {
            auto r = run(c, "SELECT json FROM harmony_results WHERE key=$1", Params().add(key));
            if (!r) return r.error();
            if (PQntuples(r->get()) == 0) return std::optional<std::string>();
            return std::optional<std::string>(field(r->get(), 0, "json"));
        });
    }

    Result<void> fetch_audio(const std::string& job_id, const std::string& dest) override {
        return with_conn([&](PGconn* c) -> Result<void> {
            auto r = run(c, "SELECT data FROM harmony_audio WHERE job_id=$1", Params().add(job_id), 1);
            if (!r) return r.error();
            if (PQntuples(r->get()) == 0) return make_error(ErrorCode::kFileNotFound, "the job's audio is gone");
            std::FILE* f = std::fopen(dest.c_str(), "wb");
            if (!f) return make_error(ErrorCode::kIoError, "cannot write " + dest);
            const auto n = static_cast<size_t>(PQgetlength(r->get(), 0, 0));
            const bool ok = std::fwrite(PQgetvalue(r->get(), 0, 0), 1, n, f) == n;
            if (std::fclose(f) != 0 || !ok) return make_error(ErrorCode::kIoError, "cannot write " + dest);
            return {};
        });
    }

    Result<std::vector<std::string>> release_audio(const std::string& job_id) override {
        return with_conn([&](PGconn* c) -> Result<std::vector<std::string>> {
            auto r = run(c, "DELETE FROM harmony_audio WHERE job_id=$1", Params().add(job_id));
            if (!r) return r.error();
            return std::vector<std::string>();
        });
    }

    Result<int> requeue_running() override { return 0; }  // leases expire instead

    Result<std::vector<std::string>> purge_finished(std::int64_t before_ms) override {
        return tx([&](PGconn* c) -> Result<std::vector<std::string>> {
            const char* sqls[] = {
                "DELETE FROM harmony_audio WHERE job_id IN (SELECT id FROM harmony_jobs WHERE state IN "
                "('succeeded','failed','canceled') AND finished_ms>0 AND finished_ms<$1)",
                "DELETE FROM harmony_jobs WHERE state IN ('succeeded','failed','canceled') AND finished_ms>0 AND "
                "finished_ms<$1",
                "DELETE FROM harmony_results r WHERE created_ms<$1 AND NOT EXISTS (SELECT 1 FROM harmony_jobs j "
                "WHERE j.result_key=r.key)",
                "DELETE FROM harmony_batches b WHERE created_ms<$1 AND NOT EXISTS (SELECT 1 FROM harmony_jobs j "
                "WHERE j.batch_id=b.id)",
                "DELETE FROM harmony_callbacks cb WHERE $1>0 AND NOT EXISTS (SELECT 1 FROM harmony_jobs j WHERE "
                "j.id=cb.job_id)"};
            for (const char* s : sqls)
                if (auto r = run(c, s, Params().add(before_ms)); !r) return r.error();
            return std::vector<std::string>();
        });
    }

    Result<StoreCounts> counts() override {
        return with_conn([&](PGconn* c) -> Result<StoreCounts> {
            auto r = run(c, "SELECT state, count(*) AS n FROM harmony_jobs GROUP BY state", {});
            if (!r) return r.error();
            StoreCounts sc;
            for (int i = 0; i < PQntuples(r->get()); ++i) {
                const auto st = parse_job_state(field(r->get(), i, "state"));
                const auto n = std::stoll(field(r->get(), i, "n"));
                if (!st) continue;
                switch (*st) {
                    case JobState::kQueued:
                        sc.queued = n;
                        break;
                    case JobState::kRunning:
                        sc.running = n;
                        break;
                    case JobState::kSucceeded:
                        sc.succeeded = n;
                        break;
                    case JobState::kFailed:
                        sc.failed = n;
                        break;
                    case JobState::kCanceled:
                        sc.canceled = n;
                        break;
                }
            }
            auto a = run(c, "SELECT value FROM harmony_counters WHERE name='analyses'", {});
            if (!a) return a.error();
            if (PQntuples(a->get()) > 0) sc.analyses = std::stoll(field(a->get(), 0, "value"));
            return sc;
        });
    }

    Result<void> ping() override {
        return with_conn([&](PGconn* c) -> Result<void> {
            auto r = run(c, "SELECT 1", {});
            if (!r) return r.error();
            return {};
        });
    }

private:
    Error pg_error(PGconn* c, const std::string& what) const {
        std::string m = PQerrorMessage(c);
        while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
        return make_error(ErrorCode::kIoError, "job store (postgresql): " + what + ": " + m);
    }

    Result<PgResult> run(PGconn* c, const char* sql, const Params& p, int result_format = 0) {
        std::vector<const char*> vals;
        std::vector<int> lens;
        for (const auto& v : p.values) {
            vals.push_back(v.data());
            lens.push_back(static_cast<int>(v.size()));
        }
        PgResult r(PQexecParams(c, sql, static_cast<int>(vals.size()), nullptr, vals.data(), lens.data(),
                                p.formats.data(), result_format),
                   &PQclear);
        const auto st = PQresultStatus(r.get());
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return pg_error(c, "query");
        return r;
    }

    // On failure, *sqlstate (when given) receives the error's SQLSTATE (empty when there is none).
    Result<void> simple(PGconn* c, const char* sql, std::string* sqlstate = nullptr) {
        PgResult r(PQexec(c, sql), &PQclear);
        const auto st = PQresultStatus(r.get());
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            if (sqlstate) {
                const char* code = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
                *sqlstate = code ? code : "";
            }
            return pg_error(c, "query");
        }
        return {};
    }

    Result<PGconn*> acquire() {
        {
            std::lock_guard lock(mu_);
            if (!pool_.empty()) {
                auto* c = pool_.back();
                pool_.pop_back();
                return c;
            }
        }
        PGconn* c = PQconnectdb(conninfo_.c_str());
        if (PQstatus(c) != CONNECTION_OK) {
            auto e = pg_error(c, "connect");
            PQfinish(c);
            return e;
        }
        return c;
    }
    void release(PGconn* c) {
        if (PQstatus(c) != CONNECTION_OK || PQtransactionStatus(c) != PQTRANS_IDLE) {
            PQfinish(c);
            return;
        }
        std::lock_guard lock(mu_);
        if (pool_.size() < 16)
            pool_.push_back(c);
        else
            PQfinish(c);
    }

    template <typename F>
    auto with_conn(F&& f) -> decltype(f(static_cast<PGconn*>(nullptr))) {
        auto c = acquire();
        if (!c) return c.error();
        auto r = f(*c);
        release(*c);
        return r;
    }

    template <typename F>
    auto tx(F&& f) -> decltype(f(static_cast<PGconn*>(nullptr))) {
        return with_conn([&](PGconn* c) -> decltype(f(c)) {
            if (auto b = simple(c, "BEGIN"); !b) return b.error();
            auto r = f(c);
            if (r.ok()) {
                if (auto e = simple(c, "COMMIT"); !e) return e.error();
            } else {
                (void)simple(c, "ROLLBACK");
            }
            return r;
        });
    }

    std::string conninfo_;
    std::mutex mu_;  // guards the pool only
    std::vector<PGconn*> pool_;
};

}  // namespace

Result<std::unique_ptr<JobStore>> open_postgres_store(const std::string& conninfo) {
    auto store = std::make_unique<PgStore>(conninfo);
    if (auto r = store->init(); !r) return r.error();
    return std::unique_ptr<JobStore>(std::move(store));
}

}  // namespace harmony::server
