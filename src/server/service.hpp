// Harmony service core: accepts jobs into a durable store, runs them on worker threads through the
// Engine, answers repeats from the result store, tracks live progress, enforces retention.
// A library with no HTTP: `harmony serve` puts src/server/http/ in front of it, `harmony worker`
// runs only its workers against a shared PostgreSQL store.
#pragma once

#include <atomic>
#include <condition_variable>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "harmony/engine.hpp"
#include "server/job_store.hpp"

namespace harmony::server {

using LogSink = std::function<void(const std::string&)>;

struct ServiceOptions {
    std::string data_dir;                                // uploads, kept audio, temp files
    int workers = 0;                                     // analysis threads; 0 = enqueue and serve only
    int max_attempts = 3;                                // a job fails after this many attempts
    std::int64_t lease_ms = 30000;                       // a worker that stops heartbeating loses its job
    std::int64_t retention_ms = 7LL * 24 * 3600 * 1000;  // finished jobs and their audio are removed after
    std::int64_t poll_ms = 250;                          // how often idle workers look for work in a shared store
    int debug_job_delay_ms = 0;                          // TEST ONLY: sleep before each analysis (see docs/api.md)
    std::string worker_name;                             // lease holder prefix (host:pid by default)
    std::string file_root;                               // server-side files: re-checked when a job runs
    double max_duration_s = 0.0;                         // longer audio fails (limit_exceeded); 0 = none
    std::int64_t job_timeout_ms = 0;                     // an analysis running longer fails; 0 = none
    LogSink log;                                         // one line per event; empty = silent
};

struct Submission {
    std::string audio_file;   // the upload (moved into the store) or a server-side file
    bool owned = true;        // false: a server-side file, never moved or deleted
    std::string source_name;  // shown in the job and in the Song Map's audio.path
    AnalysisRequest request;
    std::string batch_id;
    std::string idempotency_key;  // a retried request with the same key gets the same job
    std::string callback_url;     // POSTed the job once it ends (validated by the HTTP layer)
    bool refresh = false;         // analyse again even when the result store holds this analysis
    bool stems = false;           // also separate stems and keep their audio with the job (SQLite store only)
};

/// Whether a job's result key is that of a refresh (its own key: never answered from, nor
/// answering, other jobs).
bool is_refresh_key(const std::string& result_key);
/// Whether a job keeps its stem audio (submitted with stems): its result key is its own too, so
/// the files it serves are the ones its analysis wrote.
bool is_stems_key(const std::string& result_key);

/// The stem names the stems analyzer writes (NAME.wav).
const std::vector<std::string>& stem_names();

/// Canonical JSON text of a request ({"only":[...],"params":{...}}) and back.
std::string request_to_json(const AnalysisRequest& r);
AnalysisRequest request_from_json(const std::string& text);

class Service {
public:
    static Result<std::unique_ptr<Service>> create(std::unique_ptr<JobStore> store, ServiceOptions options);
    ~Service();
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;

    void start();  // requeues crashed jobs (SQLite), starts workers and the retention sweeper
    void stop();   // stops workers; interrupted jobs go back to the queue
    /// Graceful drain, first step: no new job is claimed (queued ones wait for the next start or
    /// another worker) and /ready answers 503. Safe from any thread.
    void begin_drain();
    /// Waits until no job runs here, until `deadline` or until `hard_stop`; returns how many
    /// were still running (stop() then gives them back to the queue).
    int wait_running(std::chrono::steady_clock::time_point deadline, std::stop_token hard_stop);
    int running_here();

    /// Validates the request, hashes the audio, answers from the result store when it can,
    /// otherwise stores the job durably (it is on disk when this returns) and wakes a worker.
    Result<JobRecord> submit(Submission s);
    Result<std::string> create_batch();
    Result<std::optional<JobRecord>> job(const std::string& id);  // with live progress
    Result<std::optional<std::vector<JobRecord>>> batch(const std::string& id);
    Result<JobPage> list_jobs(const JobQuery& q);  // with live progress
    Result<std::optional<JobRecord>> cancel(const std::string& id);
    Result<std::optional<std::string>> result_json(const JobRecord& job);
    Result<StoreCounts> counts() { return store_->counts(); }
    JobStore& store() { return *store_; }  // for the callback sender
    /// Why the service cannot take jobs now (empty: ready).
    std::string unready_reason();
    bool ready();
    std::string uploads_dir() const;
    std::string_view store_kind() const { return store_->kind(); }
    int purge_now();  // one retention sweep; returns jobs' files removed
    /// Where a job's kept stem audio lies (DATA_DIR/stems/<job id>/<name>.wav; the file may not
    /// exist: see stem_file).
    std::string stems_dir(const std::string& job_id) const;
    /// The stem file `name` (one of stem_names()) of a job kept with stems; nullopt when absent.
    std::optional<std::string> stem_file(const JobRecord& job, const std::string& name) const;

    /// Prometheus text exposition (version 0.0.4) of the queue and of this process's jobs.
    std::string metrics_text();

private:
    // Jobs finished by this process: latency from submission to the end, and failures by code.
    struct Metrics {
        std::mutex mu;
        std::vector<std::int64_t> buckets;  // cumulative counts per kLatencyBounds entry
        double sum_s = 0.0;
        std::int64_t count = 0, succeeded = 0;
        std::map<std::string, std::int64_t> failures;
    } metrics_;
    void record_finished(const JobRecord& job, const std::string& failure_code);

    Service(std::unique_ptr<JobStore> store, ServiceOptions options);
    void worker_loop(std::stop_token st, int index);
    void run_claim(Claim c, std::stop_token st);
    void sweeper_loop(std::stop_token st);
    int purge_orphan_stems();  // stems folders whose job is gone
    Result<JobRecord> retry_idempotent(const JobRecord& j, const Error& e);
    void log(const std::string& line) const {
        if (opt_.log) opt_.log(line);
    }

    struct Live {
        std::string stage;
        double progress = 0.0;
        std::stop_source stop;
    };

    std::unique_ptr<JobStore> store_;
    ServiceOptions opt_;
    std::shared_mutex live_mu_;
    std::unordered_map<std::string, std::shared_ptr<Live>> live_;
    std::mutex wake_mu_;
    std::condition_variable_any wake_;
    std::vector<std::jthread> threads_;
    std::atomic<bool> started_{false};
    std::atomic<bool> draining_{false};
};

}  // namespace harmony::server
