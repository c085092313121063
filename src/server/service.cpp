#include "server/service.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/hash.hpp"

namespace harmony::server {

namespace fs = std::filesystem;

std::string request_to_json(const AnalysisRequest& r) {
    nlohmann::json j = {{"only", r.only}, {"params", r.params}};
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

AnalysisRequest request_from_json(const std::string& text) {
    AnalysisRequest r;
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return r;
    if (j.contains("only")) r.only = j["only"].get<std::vector<std::string>>();
    if (j.contains("params")) r.params = j["params"].get<std::map<std::string, std::string>>();
    return r;
}

namespace {

/// The result-store key: the audio's content hash and the engine's cache key of the request (every
/// resolved analyzer with its version, effective parameters and model hash, the analysis rate and
/// segment settings). A new analyzer version or other options give a new key.
std::string result_key(const std::string& content_hash, const std::string& config_key) {
    const std::string k = content_hash + "|" + config_key;
    return "rk:" + core::hash_string(k) + core::hash_string(k + "#");
}

constexpr std::string_view kRefreshMarker = "|refresh:";
constexpr std::string_view kStemsMarker = "|stems:";

bool retryable(ErrorCode c) {
    return c == ErrorCode::kIoError || c == ErrorCode::kInternal;
}

void remove_quietly(const std::string& path) {
    std::error_code ec;
    if (!path.empty()) fs::remove(path, ec);
}

std::string default_worker_name() {
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    return std::string(host) + ":" + std::to_string(getpid());
}

}  // namespace

bool is_refresh_key(const std::string& result_key) {
    return result_key.find(kRefreshMarker) != std::string::npos;
}

bool is_stems_key(const std::string& result_key) {
    return result_key.find(kStemsMarker) != std::string::npos;
}

const std::vector<std::string>& stem_names() {
    static const std::vector<std::string> n = {"vocals", "drums", "bass", "other"};
    return n;
}

std::string Service::stems_dir(const std::string& job_id) const {
    return (fs::path(opt_.data_dir) / "stems" / job_id).string();
}

std::optional<std::string> Service::stem_file(const JobRecord& job, const std::string& name) const {
    if (!is_stems_key(job.result_key) || job.id.empty() || job.id.find('/') != std::string::npos) return std::nullopt;
    if (std::find(stem_names().begin(), stem_names().end(), name) == stem_names().end()) return std::nullopt;
    // WAV by default; FLAC when the job asked for it (-p stems.format=flac).
    for (const char* ext : {".wav", ".flac"}) {
        const auto p = fs::path(stems_dir(job.id)) / (name + ext);
        std::error_code ec;
        if (fs::is_regular_file(p, ec)) return p.string();
    }
    return std::nullopt;
}

Service::Service(std::unique_ptr<JobStore> store, ServiceOptions options)
    : store_(std::move(store)), opt_(std::move(options)) {
    if (opt_.worker_name.empty()) opt_.worker_name = default_worker_name();
}

Result<std::unique_ptr<Service>> Service::create(std::unique_ptr<JobStore> store, ServiceOptions options) {
    std::error_code ec;
    for (const char* sub : {"uploads", "audio", "tmp", "stems"}) {
        fs::create_directories(fs::path(options.data_dir) / sub, ec);
        if (ec) return make_error(ErrorCode::kIoError, "cannot create " + options.data_dir + "/" + sub);
    }
    return std::unique_ptr<Service>(new Service(std::move(store), std::move(options)));
}

Service::~Service() {
    stop();
}

std::string Service::uploads_dir() const {
    return (fs::path(opt_.data_dir) / "uploads").string();
}

void Service::start() {
    if (started_.exchange(true)) return;
    // Partial uploads and fetched copies left by a crash belong to no job.
    std::error_code ec;
    // (tmp/ also holds the stem folders of interrupted analyses: removed whole.)
    for (const char* sub : {"uploads", "tmp"})
        for (const auto& e : fs::directory_iterator(fs::path(opt_.data_dir) / sub, ec)) fs::remove_all(e.path(), ec);
    if (store_->kind() == "sqlite") {
        auto n = store_->requeue_running();
        if (n && *n > 0) log("requeued " + std::to_string(*n) + " interrupted job(s)");
    }
    for (int i = 0; i < opt_.workers; ++i) threads_.emplace_back([this, i](std::stop_token st) { worker_loop(st, i); });
    threads_.emplace_back([this](std::stop_token st) { sweeper_loop(st); });
}

void Service::stop() {
    if (!started_.exchange(false)) return;
    {
        std::shared_lock lock(live_mu_);
        for (auto& [id, l] : live_) l->stop.request_stop();
    }
    for (auto& t : threads_) t.request_stop();
    wake_.notify_all();
    threads_.clear();  // joins
}

void Service::begin_drain() {
    if (draining_.exchange(true)) return;
    wake_.notify_all();
    log("draining: no new jobs are taken; " + std::to_string(running_here()) + " running here");
}

int Service::running_here() {
    std::shared_lock lock(live_mu_);
    return static_cast<int>(live_.size());
}

int Service::wait_running(std::chrono::steady_clock::time_point deadline, std::stop_token hard_stop) {
    for (;;) {
        const int n = running_here();
        if (n == 0 || std::chrono::steady_clock::now() >= deadline || hard_stop.stop_requested()) return n;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

std::string Service::unready_reason() {
    if (draining_) return "the service is shutting down (draining)";
    if (!started_) return "the service is starting";
    // Jobs run in this process (SQLite) only when it has workers: with --jobs 0 none ever would.
    if (store_->kind() == "sqlite" && opt_.workers <= 0) return "no analysis workers (--jobs 0): no job can run";
    if (auto p = store_->ping(); !p) return "the job store is not reachable: " + p.error().message;
    return {};
}

bool Service::ready() {
    return unready_reason().empty();
}

Result<JobRecord> Service::submit(Submission s) {
    auto cleanup = [&] {
        if (s.owned) remove_quietly(s.audio_file);
    };
    if (!s.idempotency_key.empty()) {
        auto seen = store_->find_by_idempotency_key(s.idempotency_key);
        if (!seen) {
            cleanup();
            return seen.error();
        }
        if (seen->has_value()) {
            // The same key with other audio or other options is a client bug, not a retry:
            // refused, rather than silently answered with the first job.
            auto hash = core::hash_file(s.audio_file);
            const bool same =
                hash && *hash == (*seen)->content_hash && request_to_json(s.request) == (*seen)->request_json &&
                is_refresh_key((*seen)->result_key) == s.refresh && is_stems_key((*seen)->result_key) == s.stems;
            cleanup();
            if (!same)
                return make_error(ErrorCode::kInvalidArgument,
                                  "this Idempotency-Key was already used for a different request (other audio or "
                                  "options): use a new key");
            return **seen;
        }
    }
    auto resolved = Engine::resolve(s.request);
    if (!resolved) {
        cleanup();
        return resolved.error();
    }
    if (s.stems) {
        // The stem audio stays in this process's data dir: a shared queue's workers run elsewhere.
        if (store_->kind() != "sqlite") {
            cleanup();
            return make_error(ErrorCode::kInvalidArgument,
                              "stems are kept only by a server with its own SQLite store (with a shared queue the "
                              "files would stay on the worker that analysed the job)");
        }
        // As `harmony analyze --stems`: the selection (the default one when none was named) plus stems.
        s.request.only = *resolved;
        if (std::find(s.request.only.begin(), s.request.only.end(), "stems") == s.request.only.end())
            s.request.only.push_back("stems");
    }
    std::error_code ec;
    if (!fs::is_regular_file(s.audio_file, ec)) {
        cleanup();
        return make_error(ErrorCode::kNotAFile, "not a regular file: " + s.source_name);
    }
    const auto size = static_cast<std::int64_t>(fs::file_size(s.audio_file, ec));
    if (size == 0) {
        cleanup();
        return make_error(ErrorCode::kEmptyFile, "the audio is empty");
    }
    auto hash = core::hash_file(s.audio_file);
    if (!hash) {
        cleanup();
        return hash.error();
    }
    JobRecord j;
    j.id = new_id();
    j.batch_id = s.batch_id;
    j.idempotency_key = s.idempotency_key;
    j.callback_url = s.callback_url;
    j.request_json = request_to_json(s.request);
    j.source_name = s.source_name;
    j.content_hash = *hash;
    auto config = Engine().cache_key(s.request);
    if (!config) {
        cleanup();
        return config.error();
    }
    j.result_key = result_key(*hash, *config);
    // A refresh gets a key of its own: the worker's look-up misses, the analysis runs, and the
    // fresh result is this job's (the stored result other jobs point to is left as it is).
    if (s.refresh) j.result_key += std::string(kRefreshMarker) + j.id;
    // A job that keeps stems is always analysed: the files it serves are its own (they live and go
    // with the job, not with a shared stored result).
    if (s.stems) j.result_key += std::string(kStemsMarker) + j.id;
    j.max_attempts = opt_.max_attempts;
    j.created_ms = now_ms();
    j.audio_owned = s.owned;
    j.audio_bytes = size;
    j.stage = "queued";

    auto cached = s.refresh || s.stems ? Result<std::optional<std::string>>(std::optional<std::string>{})
                                       : store_->find_result(j.result_key);
    if (!cached) {
        cleanup();
        return cached.error();
    }
    if (cached->has_value()) {
        j.state = JobState::kSucceeded;
        j.stage = "done";
        j.progress = 1.0;
        j.cached = true;
        j.started_ms = j.finished_ms = j.created_ms;
        cleanup();
        if (auto r = store_->insert_job(j, ""); !r) return retry_idempotent(j, r.error());
        return j;
    }
    std::string audio = s.audio_file;
    if (s.owned && store_->kind() == "sqlite") {
        // Kept in the data dir until the job ends (same filesystem: a rename).
        audio = (fs::path(opt_.data_dir) / "audio" / j.id).string();
        fs::rename(s.audio_file, audio, ec);
        if (ec) {
            cleanup();
            return make_error(ErrorCode::kIoError, "cannot keep the upload: " + ec.message());
        }
        j.audio_path = audio;
    } else if (!s.owned) {
        j.audio_path = s.audio_file;
    }
    auto r = store_->insert_job(j, audio);
    if (s.owned && store_->kind() != "sqlite") remove_quietly(s.audio_file);  // now in the database
    if (!r) {
        if (s.owned) remove_quietly(audio);
        return retry_idempotent(j, r.error());
    }
    wake_.notify_one();
    return j;
}

Result<JobRecord> Service::retry_idempotent(const JobRecord& j, const Error& e) {
    // Two requests with one Idempotency-Key raced: the unique index let one in; answer with it.
    if (j.idempotency_key.empty()) return e;
    auto seen = store_->find_by_idempotency_key(j.idempotency_key);
    if (seen && seen->has_value()) return **seen;
    return e;
}

Result<std::string> Service::create_batch() {
    const auto id = new_id();
    if (auto r = store_->insert_batch(id, now_ms()); !r) return r.error();
    return id;
}

Result<std::optional<JobRecord>> Service::job(const std::string& id) {
    auto r = store_->get_job(id);
    if (!r || !r->has_value()) return r;
    auto& j = **r;
    if (j.state == JobState::kRunning) {
        std::shared_lock lock(live_mu_);
        if (auto it = live_.find(id); it != live_.end()) {
            j.stage = it->second->stage;
            j.progress = it->second->progress;
        }
    }
    return r;
}

Result<std::optional<std::vector<JobRecord>>> Service::batch(const std::string& id) {
    auto exists = store_->batch_exists(id);
    if (!exists) return exists.error();
    if (!*exists) return std::optional<std::vector<JobRecord>>();
    auto jobs = store_->batch_jobs(id);
    if (!jobs) return jobs.error();
    {
        std::shared_lock lock(live_mu_);
        for (auto& j : *jobs)
            if (auto it = live_.find(j.id); j.state == JobState::kRunning && it != live_.end()) {
                j.stage = it->second->stage;
                j.progress = it->second->progress;
            }
    }
    return std::optional<std::vector<JobRecord>>(std::move(*jobs));
}

Result<JobPage> Service::list_jobs(const JobQuery& q) {
    auto page = store_->list_jobs(q);
    if (!page) return page;
    std::shared_lock lock(live_mu_);
    for (auto& j : page->jobs)
        if (auto it = live_.find(j.id); j.state == JobState::kRunning && it != live_.end()) {
            j.stage = it->second->stage;
            j.progress = it->second->progress;
        }
    return page;
}

Result<std::optional<JobRecord>> Service::cancel(const std::string& id) {
    auto r = store_->cancel(id);
    if (!r || !r->has_value()) return r;
    {
        std::shared_lock lock(live_mu_);
        if (auto it = live_.find(id); it != live_.end()) it->second->stop.request_stop();
    }
    if ((*r)->state == JobState::kCanceled && store_->kind() == "sqlite" && (*r)->state != JobState::kRunning) {
        // Queued jobs end here; a running one releases its audio when its worker stops.
        std::shared_lock lock(live_mu_);
        if (!live_.contains(id))
            if (auto files = store_->release_audio(id))
                for (const auto& f : *files) remove_quietly(f);
    }
    return r;
}

Result<std::optional<std::string>> Service::result_json(const JobRecord& job) {
    return store_->find_result(job.result_key);
}

void Service::worker_loop(std::stop_token st, int index) {
    const std::string name = opt_.worker_name + "#" + std::to_string(index);
    while (!st.stop_requested()) {
        if (draining_) {  // a draining service takes no new job; stop() ends this loop
            std::unique_lock lock(wake_mu_);
            wake_.wait_for(lock, st, std::chrono::milliseconds(opt_.poll_ms), [] { return false; });
            continue;
        }
        auto c = store_->claim(name, opt_.lease_ms);
        if (!c) {
            log("claim failed: " + c.error().message);
        } else if (c->has_value()) {
            // Exception barrier: a job that throws is logged and keeps its lease until it expires
            // (then it is retried up to max_attempts); the worker goes on.
            const std::string job = (*c)->job.id;
            try {
                run_claim(std::move(**c), st);
            } catch (const std::exception& e) {
                log("job " + job + ": unexpected exception: " + e.what());
            } catch (...) {
                log("job " + job + ": unexpected exception");
            }
            continue;
        }
        std::unique_lock lock(wake_mu_);
        wake_.wait_for(lock, st, std::chrono::milliseconds(opt_.poll_ms), [] { return false; });
    }
}

namespace {
/// A server-side file (a job's source.path), opened as the job runs. The path was confined to
/// the file root when the job was submitted, but the file is read later: a symlink swapped in
/// since then would be read outside the root, and its Song Map cached under the submitted file's
/// content hash (given to every later user of the real file). So the file is opened once, the
/// descriptor's real path is checked against the root again, the content read through it is
/// hashed and compared with the submitted hash, and the analysis reads the same descriptor
/// (/proc/self/fd/N names the opened file, whatever the path names by then).
class HeldFile {
public:
    ~HeldFile() {
        if (fd_ >= 0) ::close(fd_);
    }
    Result<std::string> open(const std::string& path, const std::string& root, const std::string& expected_hash) {
        fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) return make_error(ErrorCode::kFileNotFound, "the submitted file is gone");
        struct stat st {};
        if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode))
            return make_error(ErrorCode::kNotAFile, "the submitted path no longer names a regular file");
        const std::string self = "/proc/self/fd/" + std::to_string(fd_);
        if (!root.empty()) {
            std::error_code ec;
            const fs::path r = fs::canonical(root, ec);
            const fs::path real = fs::read_symlink(self, ec);
            const auto rel = real.lexically_relative(r);
            if (ec || rel.empty() || *rel.begin() == ".." || rel.is_absolute())
                return make_error(ErrorCode::kPermissionDenied,
                                  "the submitted path now leads outside the file root (replaced after submission)");
        }
        auto h = core::hash_file(self);
        if (!h) return h.error();
        if (*h != expected_hash)
            return make_error(ErrorCode::kInvalidArgument,
                              "the file changed after the job was submitted: submit it again");
        return self;
    }

private:
    int fd_ = -1;
};
}  // namespace

void Service::run_claim(Claim c, std::stop_token worker_stop) {
    const auto& id = c.job.id;
    auto live = std::make_shared<Live>();
    live->stage = "starting";
    {
        std::unique_lock lock(live_mu_);
        live_[id] = live;
    }
    std::stop_callback forward(worker_stop, [live] { live->stop.request_stop(); });
    std::atomic<bool> lease_lost{false};
    std::mutex progress_mu;
    std::string stage = "starting";
    double fraction = 0.0;

    auto finish = [&](bool job_ended) {
        {
            std::unique_lock lock(live_mu_);
            live_.erase(id);
        }
        if (!job_ended) return;
        // The SQLite store clears the kept upload's path as it completes the job: delete it here.
        if (store_->kind() == "sqlite" && c.job.audio_owned) remove_quietly(c.job.audio_path);
        if (auto files = store_->release_audio(id))
            for (const auto& f : *files) remove_quietly(f);
    };

    // Already answered by another job with the same audio and options?
    if (auto cached = store_->find_result(c.job.result_key); cached && cached->has_value()) {
        auto done = store_->complete(c, **cached, false);
        finish(done && *done);
        return;
    }

    std::string audio = c.job.audio_path;
    std::string temp;
    if (store_->kind() != "sqlite" && c.job.audio_owned) {
        temp = (fs::path(opt_.data_dir) / "tmp" / (id + "-" + std::to_string(c.attempt))).string();
        if (auto r = store_->fetch_audio(id, temp); !r) {
            remove_quietly(temp);
            auto f = store_->fail(c, r.error(), true);
            finish(f && *f && store_->get_job(id).ok());
            return;
        }
        audio = temp;
    }

    HeldFile held;
    if (!c.job.audio_owned) {
        auto opened = held.open(c.job.audio_path, opt_.file_root, c.job.content_hash);
        if (!opened) {
            auto f = store_->fail(c, opened.error(), false);
            log("job " + id + " failed: " + opened.error().message);
            finish(f && *f);
            return;
        }
        audio = *opened;
    }

    log("job " + id + " attempt " + std::to_string(c.attempt) + " started on " + c.job.worker);
    std::jthread heartbeat([&](std::stop_token hb_stop) {
        // A shared store needs fresh leases and progress for other machines; the single-process
        // SQLite store only needs the lease kept (live progress is in memory).
        const auto interval = std::chrono::milliseconds(store_->kind() == "sqlite"
                                                            ? std::max<std::int64_t>(opt_.lease_ms / 3, 50)
                                                            : std::clamp<std::int64_t>(opt_.lease_ms / 3, 50, 1000));
        std::mutex m;
        std::condition_variable_any cv;
        while (!hb_stop.stop_requested()) {
            {
                std::unique_lock lock(m);
                cv.wait_for(lock, hb_stop, interval, [] { return false; });
            }
            if (hb_stop.stop_requested()) break;
            std::string s;
            double f;
            {
                std::lock_guard lock(progress_mu);
                s = stage;
                f = fraction;
            }
            auto ok = store_->heartbeat(c, s, f, opt_.lease_ms);
            if (ok && !*ok) {  // cancelled, or the lease went to another worker
                lease_lost = true;
                live->stop.request_stop();
                break;
            }
        }
    });

    auto set_progress = [&](const std::string& s, double f) {
        {
            std::lock_guard lock(progress_mu);
            stage = s;
            fraction = f;
        }
        std::unique_lock lock(live_mu_);
        live->stage = s;
        live->progress = f;
    };

    const auto stop = live->stop.get_token();
    // --job-timeout: the analysis is stopped and the job fails (not retried: it would time out again).
    std::atomic<bool> timed_out{false};
    std::jthread watchdog;
    if (opt_.job_timeout_ms > 0)
        watchdog = std::jthread([&, until = std::chrono::steady_clock::now() +
                                            std::chrono::milliseconds(opt_.job_timeout_ms)](std::stop_token wd) {
            std::mutex m;
            std::condition_variable_any cv;
            std::unique_lock lock(m);
            if (!cv.wait_until(lock, wd, until, [] { return false; }) && !wd.stop_requested()) {
                timed_out = true;
                live->stop.request_stop();
            }
        });
    if (opt_.debug_job_delay_ms > 0) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(opt_.debug_job_delay_ms);
        set_progress("debug-delay", 0.0);
        while (!stop.stop_requested() && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }

    // Stems: written into tmp/ by the analysis, moved next to the job once it succeeded; any other
    // ending removes them (tmp/ is also emptied at start-up, after a crash).
    auto request = request_from_json(c.job.request_json);
    std::string stems_tmp;
    if (is_stems_key(c.job.result_key)) {
        stems_tmp = (fs::path(opt_.data_dir) / "tmp" / ("stems-" + id + "-" + std::to_string(c.attempt))).string();
        request.params["stems.dir"] = stems_tmp;
    }
    struct DropDir {
        const std::string& d;
        ~DropDir() {
            std::error_code ec;
            if (!d.empty()) fs::remove_all(d, ec);
        }
    } drop_stems{stems_tmp};

    EngineOptions eo;
    eo.max_duration_s = opt_.max_duration_s;
    eo.stop = stop;
    // The workers share the cores: each analysis gets its share.
    eo.threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / std::max(1, opt_.workers));
    eo.progress = [&](const Progress& p) { set_progress(p.stage, p.fraction); };
    Engine engine(std::move(eo));
    auto map = stop.stop_requested() ? Result<SongMap>(make_error(ErrorCode::kCancelled, "stopped"))
                                     : engine.analyze_file(audio, request);
    heartbeat.request_stop();
    heartbeat.join();
    if (watchdog.joinable()) {
        watchdog.request_stop();
        watchdog.join();
    }
    remove_quietly(temp);
    if (timed_out && !lease_lost) {
        auto f =
            store_->fail(c,
                         Error{ErrorCode::kLimitExceeded, "the analysis ran longer than the server's job timeout (" +
                                                              std::to_string(opt_.job_timeout_ms / 1000) + " s)"},
                         false);
        log("job " + id + " timed out");
        if (f && *f) record_finished(c.job, "limit_exceeded");
        finish(f && *f);
        return;
    }

    if (stop.stop_requested() && (!map || lease_lost)) {
        // Cancelled (the store already says so), lease lost (another worker owns the job now), or
        // shutting down (the job stays running in the store: requeued at start-up or when its lease
        // expires).
        auto now = store_->get_job(id);
        const bool ended = now && now->has_value() && is_final((*now)->state);
        if (!ended && !lease_lost && worker_stop.stop_requested()) (void)store_->release(c);
        log("job " + id + " stopped" + (ended ? " (cancelled)" : lease_lost ? " (lease lost)" : " (shutdown)"));
        finish(ended);
        return;
    }
    if (!map) {
        // The client knows its file by its name, not by where the server keeps it.
        Error err = map.error();
        for (std::size_t p = 0; !audio.empty() && (p = err.message.find(audio, p)) != std::string::npos;
             p += c.job.source_name.size())
            err.message.replace(p, audio.size(), c.job.source_name);
        auto f = store_->fail(c, err, retryable(err.code));
        log("job " + id + " failed: " + map.error().message);
        auto now = store_->get_job(id);
        if (now && now->has_value() && (*now)->state == JobState::kFailed)
            record_finished(c.job, std::string(error_code_name(err.code)));
        finish(f && *f && now && now->has_value() && is_final((*now)->state));
        return;
    }
    map->audio.path = c.job.source_name;
    if (!stems_tmp.empty() && map->stems) {
        // Kept with the job; the Song Map names each file by its name alone (the server's paths
        // are not the client's business): the audio is at GET /v1/jobs/{id}/stems/{name}.
        std::error_code ec;
        const auto dest = stems_dir(id);
        fs::remove_all(dest, ec);
        fs::rename(stems_tmp, dest, ec);
        if (ec) {
            auto f = store_->fail(c, Error{ErrorCode::kIoError, "cannot keep the stems: " + ec.message()}, true);
            finish(f && *f && store_->get_job(id).ok());
            return;
        }
        for (auto& st : map->stems->stems)
            if (!st.file.empty()) st.file = fs::path(st.file).filename().string();
        if (auto it = map->stems->provenance.params.find("dir"); it != map->stems->provenance.params.end())
            it->second = std::string("/v1/jobs/" + id + "/stems");
    }
    auto json = to_json(*map);
    if (!json) {
        (void)store_->fail(c, json.error(), false);
        finish(true);
        return;
    }
    auto done = store_->complete(c, *json, true);
    if (!done) log("job " + id + " could not be completed: " + done.error().message);
    if (done && *done) record_finished(c.job, "");
    log("job " + id + (done && *done ? " succeeded" : " finished after its claim was lost"));
    finish(done && *done);
}

int Service::purge_now() {
    auto files = store_->purge_finished(now_ms() - opt_.retention_ms);
    if (!files) {
        log("retention sweep failed: " + files.error().message);
        return 0;
    }
    for (const auto& f : *files) remove_quietly(f);
    return static_cast<int>(files->size()) + purge_orphan_stems();
}

int Service::purge_orphan_stems() {
    // A job's stems go with the job: once retention removed it, its folder is removed too.
    int n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(fs::path(opt_.data_dir) / "stems", ec)) {
        auto j = store_->get_job(e.path().filename().string());
        if (!j || j->has_value()) continue;
        std::error_code rm;
        fs::remove_all(e.path(), rm);
        if (!rm) ++n;
    }
    return n;
}

void Service::sweeper_loop(std::stop_token st) {
    const auto every = std::chrono::milliseconds(std::clamp<std::int64_t>(opt_.retention_ms / 10, 200, 60000));
    std::mutex m;
    std::condition_variable_any cv;
    while (!st.stop_requested()) {
        purge_now();
        std::unique_lock lock(m);
        cv.wait_for(lock, st, every, [] { return false; });
    }
}

namespace {
constexpr double kLatencyBounds[] = {0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800};
}  // namespace

void Service::record_finished(const JobRecord& job, const std::string& failure_code) {
    const double s = std::max(0.0, static_cast<double>(now_ms() - job.created_ms) / 1000.0);
    std::lock_guard lock(metrics_.mu);
    if (metrics_.buckets.empty()) metrics_.buckets.assign(std::size(kLatencyBounds), 0);
    for (size_t i = 0; i < std::size(kLatencyBounds); ++i)
        if (s <= kLatencyBounds[i]) ++metrics_.buckets[i];
    metrics_.sum_s += s;
    ++metrics_.count;
    if (failure_code.empty())
        ++metrics_.succeeded;
    else
        ++metrics_.failures[failure_code];
}

std::string Service::metrics_text() {
    std::string o;
    auto line = [&](const std::string& l) { o += l + "\n"; };
    auto num = [](double v) {
        char b[64];
        std::snprintf(b, sizeof b, "%.17g", v);
        return std::string(b);
    };
    if (auto c = store_->counts()) {
        line("# HELP harmony_jobs Jobs in the store by state (the queue depth is state=\"queued\").");
        line("# TYPE harmony_jobs gauge");
        const std::pair<const char*, std::int64_t> states[] = {{"queued", c->queued},
                                                               {"running", c->running},
                                                               {"succeeded", c->succeeded},
                                                               {"failed", c->failed},
                                                               {"canceled", c->canceled}};
        for (const auto& [name, n] : states)
            line(std::string("harmony_jobs{state=\"") + name + "\"} " + std::to_string(n));
        line("# HELP harmony_analyses_total Analyses completed by workers (cache hits excluded), all processes.");
        line("# TYPE harmony_analyses_total counter");
        line("harmony_analyses_total " + std::to_string(c->analyses));
    }
    line("# HELP harmony_up Whether the service can take jobs now (see /ready).");
    line("# TYPE harmony_up gauge");
    line(std::string("harmony_up ") + (unready_reason().empty() ? "1" : "0"));
    std::lock_guard lock(metrics_.mu);
    line("# HELP harmony_job_duration_seconds Submission to end of the jobs this process finished.");
    line("# TYPE harmony_job_duration_seconds histogram");
    for (size_t i = 0; i < std::size(kLatencyBounds); ++i)
        line("harmony_job_duration_seconds_bucket{le=\"" + num(kLatencyBounds[i]) + "\"} " +
             std::to_string(metrics_.buckets.empty() ? 0 : metrics_.buckets[i]));
    line("harmony_job_duration_seconds_bucket{le=\"+Inf\"} " + std::to_string(metrics_.count));
    line("harmony_job_duration_seconds_sum " + num(metrics_.sum_s));
    line("harmony_job_duration_seconds_count " + std::to_string(metrics_.count));
    line("# HELP harmony_job_failures_total Jobs this process failed for good, by error code.");
    line("# TYPE harmony_job_failures_total counter");
    for (const auto& [code, n] : metrics_.failures)
        line("harmony_job_failures_total{code=\"" + code + "\"} " + std::to_string(n));
    line("# HELP harmony_workers Analysis threads of this process.");
    line("# TYPE harmony_workers gauge");
    line("harmony_workers " + std::to_string(opt_.workers));
    return o;
}

}  // namespace harmony::server
