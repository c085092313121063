// Harmony service — the durable job store. Two back ends share one interface: SQLite (WAL) in the
// data dir for a single `harmony serve`, PostgreSQL for a fleet of `harmony worker` processes.
// No HTTP and no JSON parsing here: requests and results are opaque text to the store.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harmony/error.hpp"

namespace harmony::server {

enum class JobState { kQueued, kRunning, kSucceeded, kFailed, kCanceled };

std::string_view job_state_name(JobState s) noexcept;
std::optional<JobState> parse_job_state(std::string_view s) noexcept;
inline bool is_final(JobState s) noexcept {
    return s == JobState::kSucceeded || s == JobState::kFailed || s == JobState::kCanceled;
}

struct JobRecord {
    std::string id;
    std::string batch_id;  // empty when not part of a batch
    JobState state = JobState::kQueued;
    std::string stage;         // "queued", "decode", analyzer ids, "done"
    double progress = 0.0;     // 0..1
    std::string request_json;  // {"only":[...],"params":{...}} (validated at the edge)
    std::string source_name;   // the upload's file name or the server-side path
    std::string content_hash;  // "xxh128:..."
    std::string result_key;    // content hash + analyzer versions + params
    int attempts = 0;
    int max_attempts = 3;
    std::string error_code;  // harmony error code name when failed
    std::string error_message;
    std::int64_t created_ms = 0, started_ms = 0, finished_ms = 0;
    bool cached = false;      // answered from the result store without analysis
    std::string audio_path;   // SQLite store: the kept upload; PostgreSQL: empty (audio in the db)
    bool audio_owned = true;  // false for server-side files (never deleted)
    std::int64_t audio_bytes = 0;
    std::string worker;           // who holds the lease
    std::string idempotency_key;  // client's Idempotency-Key (empty: none)
    std::string callback_url;     // insert_job only: a completion callback to send (empty: none)
};

/// A completion callback that is due: the job has ended and the last attempt (if any) failed.
struct CallbackDue {
    std::string job_id, url;
    int attempts = 0;  // attempts made so far
};

/// A page request for GET /v1/jobs: newest first, filtered; `before_seq` is the cursor (the
/// insertion sequence number of the last job of the previous page; 0: from the newest).
struct JobQuery {
    std::vector<JobState> states;                         // empty: any
    std::string batch_id;                                 // empty: any
    std::int64_t created_from_ms = 0, created_to_ms = 0;  // inclusive / exclusive bounds; 0: none
    std::int64_t before_seq = 0;
    int limit = 50;
};

struct JobPage {
    std::vector<JobRecord> jobs;
    std::int64_t next_seq = 0;  // cursor of the next page (0: this was the last page)
};

/// What a worker gets from claim(): the job and its fencing token (the attempt number).
struct Claim {
    JobRecord job;
    int attempt = 0;
};

struct StoreCounts {
    std::int64_t queued = 0, running = 0, succeeded = 0, failed = 0, canceled = 0;
    std::int64_t analyses = 0;  // analyses completed by workers (not cache hits), ever: exactly-once checks
};

class JobStore {
public:
    virtual ~JobStore() = default;
    virtual std::string_view kind() const noexcept = 0;  // "sqlite", "postgresql"

    /// Inserts a new job. For the PostgreSQL store `audio_file` (when non-empty and the job owns it)
    /// is copied into the database so that workers on other machines can read it.
    virtual Result<void> insert_job(const JobRecord& job, const std::string& audio_file) = 0;
    virtual Result<void> insert_batch(const std::string& id, std::int64_t created_ms) = 0;
    virtual Result<bool> batch_exists(const std::string& id) = 0;
    virtual Result<std::optional<JobRecord>> get_job(const std::string& id) = 0;
    virtual Result<std::optional<JobRecord>> find_by_idempotency_key(const std::string& key) = 0;
    virtual Result<std::vector<JobRecord>> batch_jobs(const std::string& batch_id) = 0;
    /// One page of jobs, newest first (insertion order; stable under concurrent inserts).
    virtual Result<JobPage> list_jobs(const JobQuery& q) = 0;

    /// Completion callbacks of ended jobs that are due now, oldest first, each held for `lease_ms`
    /// (another sender skips it meanwhile; an unrecorded attempt is retried after the lease).
    virtual Result<std::vector<CallbackDue>> due_callbacks(std::int64_t lease_ms, int limit) = 0;
    /// Records an attempt: delivered, retried at `next_ms`, or (next_ms == 0, not delivered) given up.
    virtual Result<void> record_callback(const std::string& job_id, int attempts, bool delivered, std::int64_t next_ms,
                                         const std::string& error) = 0;
    /// "pending", "delivered", "failed" with the attempts made; nullopt: the job has no callback.
    virtual Result<std::optional<std::pair<std::string, int>>> callback_state(const std::string& job_id) = 0;

    /// Takes the oldest queued job (or one whose lease expired) for `worker`: state running,
    /// attempts + 1, lease until now + lease_ms. Jobs whose attempts are used up fail instead.
    virtual Result<std::optional<Claim>> claim(const std::string& worker, std::int64_t lease_ms) = 0;
    /// Extends the lease and records progress. false: the lease is lost or the job was cancelled.
    virtual Result<bool> heartbeat(const Claim& c, const std::string& stage, double progress,
                                   std::int64_t lease_ms) = 0;
    /// Stores the result and finishes the job, only if the claim still holds (exactly once).
    virtual Result<bool> complete(const Claim& c, const std::string& result_json, bool analysed) = 0;
    /// Records a failure: requeued while attempts remain and `retryable`, failed otherwise.
    virtual Result<bool> fail(const Claim& c, const Error& error, bool retryable) = 0;
    /// Gives a job back to the queue on a clean shutdown (the attempt does not count).
    virtual Result<bool> release(const Claim& c) = 0;
    /// Cancels a queued or running job. Returns the job after the change (nullopt: unknown).
    virtual Result<std::optional<JobRecord>> cancel(const std::string& id) = 0;

    virtual Result<std::optional<std::string>> find_result(const std::string& result_key) = 0;
    /// Copies the job's audio out of the database into `dest` (PostgreSQL store only).
    virtual Result<void> fetch_audio(const std::string& job_id, const std::string& dest) = 0;
    /// Releases the audio of a finished job (SQLite: returns the file to delete).
    virtual Result<std::vector<std::string>> release_audio(const std::string& job_id) = 0;

    /// Single-process store at start-up: jobs left running by a crash go back to the queue.
    virtual Result<int> requeue_running() = 0;
    /// Removes finished jobs older than the cut-off; returns the audio files to delete.
    virtual Result<std::vector<std::string>> purge_finished(std::int64_t finished_before_ms) = 0;
    virtual Result<StoreCounts> counts() = 0;
    virtual Result<void> ping() = 0;
};

/// SQLite (WAL) store at `<data_dir>/jobs.db`.
Result<std::unique_ptr<JobStore>> open_sqlite_store(const std::string& db_path);
/// PostgreSQL store; `conninfo` is a libpq URI ("postgresql://user@host:port/db").
Result<std::unique_ptr<JobStore>> open_postgres_store(const std::string& conninfo);

std::int64_t now_ms();
std::string new_id();  // 32 random hex digits

}  // namespace harmony::server
