// `harmony serve` (the HTTP job service), `harmony worker` (a PostgreSQL queue worker) and
// `harmony app` (the web app: a loopback server if none is running, then the default browser).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>

#include "cli/common.hpp"
#include "library/library.hpp"
#include "server/http/callbacks.hpp"
#include "server/http/http_server.hpp"
#include "server/http/router.hpp"
#include "server/service.hpp"

namespace harmony::cli {

namespace {

struct ServeArgs {
    std::string bind = "127.0.0.1";
    int port = 8717;
    std::string data_dir;
    std::string db;
    int jobs = -1;
    std::string max_upload = "1G";
    std::string max_request = "1M";
    int max_connections = 1024;
    std::string retention = "7d";
    std::string token;
    std::string file_root;
    std::string library;  // the CLI's track library, read-only at /v1/library ("none": not served)
    std::vector<std::string> cors_origins;
    std::vector<std::string> allowed_hosts;
    int idle_timeout_s = 60;
    int drain_timeout_s = 20;  // after SIGTERM: in-flight requests and running jobs may finish
    int max_batch = 256;
    std::string max_duration = "0";  // audio longer fails (limit_exceeded); 0 = none
    std::string job_timeout = "0";   // an analysis running longer fails; 0 = none
    std::int64_t max_duration_ms = 0, job_timeout_ms = 0;
    std::string token_file;
    std::vector<std::string> callback_hosts;  // receivers a job's callback_url may name
    std::string callback_secret_file;         // or HARMONY_CALLBACK_SECRET
    std::string callback_secret;
    int callback_attempts = 8;
    int debug_callback_backoff_ms = 1000;
    int max_attempts = 3;
    double lease_s = 30.0;
    std::string port_file;
    int debug_job_delay_ms = 0;
    bool quiet = false;
};

/// "1G", "512M", "64k", "1000" -> bytes.
std::optional<std::int64_t> parse_size(const std::string& s) {
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    std::string unit(end);
    double mul = 1;
    if (unit == "k" || unit == "K" || unit == "KiB")
        mul = 1024.0;
    else if (unit == "M" || unit == "MiB")
        mul = 1024.0 * 1024;
    else if (unit == "G" || unit == "GiB")
        mul = 1024.0 * 1024 * 1024;
    else if (!unit.empty() && unit != "B")
        return std::nullopt;
    if (!(v >= 0)) return std::nullopt;
    return static_cast<std::int64_t>(v * mul);
}

/// "7d", "12h", "30m", "45s", "250ms", "3600" (seconds) -> milliseconds.
std::optional<std::int64_t> parse_duration_ms(const std::string& s) {
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    std::string unit(end);
    double mul = 1000;
    if (unit == "ms")
        mul = 1;
    else if (unit == "m")
        mul = 60e3;
    else if (unit == "h")
        mul = 3600e3;
    else if (unit == "d")
        mul = 86400e3;
    else if (!unit.empty() && unit != "s")
        return std::nullopt;
    if (!(v >= 0)) return std::nullopt;
    return static_cast<std::int64_t>(v * mul);
}

std::string default_data_dir() {
    if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/harmony";
    if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/share/harmony";
    return "harmony-data";
}

server::LogSink stderr_sink(bool quiet, const char* who) {
    if (quiet) return {};
    auto mu = std::make_shared<std::mutex>();
    return [mu, who](const std::string& line) {
        std::lock_guard lock(*mu);
        std::fprintf(stderr, "harmony %s: %s\n", who, line.c_str());
    };
}

bool is_postgres(const std::string& db) {
    return db.rfind("postgresql://", 0) == 0 || db.rfind("postgres://", 0) == 0;
}

Result<std::unique_ptr<server::JobStore>> open_store(const std::string& db, const std::string& data_dir) {
    if (db.empty()) return server::open_sqlite_store((std::filesystem::path(data_dir) / "jobs.db").string());
    if (is_postgres(db)) return server::open_postgres_store(db);
    if (db.rfind("sqlite:", 0) == 0) return server::open_sqlite_store(db.substr(7));
    return make_error(ErrorCode::kInvalidArgument, "--db takes postgresql://... or sqlite:PATH");
}

/// Opens the job store, creates the service (serve and worker share every option) and starts it.
/// Prints the error and returns nullptr when either fails.
std::unique_ptr<server::Service> start_service(const ServeArgs& a, int workers, std::int64_t retention_ms,
                                               const char* who) {
    auto store = open_store(a.db, a.data_dir);
    if (!store) {
        print_error(store.error());
        return nullptr;
    }
    server::ServiceOptions so;
    so.data_dir = a.data_dir;
    so.file_root = a.file_root;
    so.max_duration_s = static_cast<double>(a.max_duration_ms) / 1000.0;
    so.job_timeout_ms = a.job_timeout_ms;
    so.workers = workers;
    so.max_attempts = a.max_attempts;
    so.lease_ms = static_cast<std::int64_t>(a.lease_s * 1000);
    so.retention_ms = retention_ms;
    so.debug_job_delay_ms = a.debug_job_delay_ms;
    so.log = stderr_sink(a.quiet, who);
    auto svc = server::Service::create(std::move(*store), so);
    if (!svc) {
        print_error(svc.error());
        return nullptr;
    }
    (*svc)->start();
    return std::move(*svc);
}

constexpr std::size_t kMinTokenLength = 16;

/// Graceful drain after the first SIGTERM/SIGINT: the service stops taking jobs at once (and
/// /ready says so); jobs running here get until `drain_s` after the signal to finish, then
/// stop() gives the rest back to the queue (the attempt not counted). A second signal cuts the
/// wait short.
class Drain {
public:
    Drain(server::Service& svc, int drain_s, const char* who)
        : svc_(svc), drain_s_(drain_s), who_(who), cb_(global_stop_token(), [this] {
              stop_at_ns_ = std::chrono::steady_clock::now().time_since_epoch().count();
              svc_.begin_drain();
          }) {}
    /// Waits for running jobs (bounded), then stops the service.
    void finish() {
        const auto at = stop_at_ns_.load();
        const auto stop_at = at != 0 ? std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(at))
                                     : std::chrono::steady_clock::now();
        if (const int n = svc_.running_here(); n > 0)
            std::fprintf(stderr,
                         "harmony %s: draining: %d job(s) running, up to %d s to finish (send the signal again "
                         "to stop now)\n",
                         who_, n, drain_s_);
        const int left = svc_.wait_running(stop_at + std::chrono::seconds(drain_s_), global_hard_stop_token());
        svc_.stop();
        if (left > 0) std::fprintf(stderr, "harmony %s: %d running job(s) given back to the queue\n", who_, left);
    }

private:
    server::Service& svc_;
    int drain_s_;
    const char* who_;
    std::atomic<std::int64_t> stop_at_ns_{0};
    std::stop_callback<std::function<void()>> cb_;
};

/// --max-duration and --job-timeout into milliseconds ("0" = no limit); false on a bad value.
bool parse_limits(ServeArgs& a) {
    const auto d = a.max_duration == "0" ? std::optional<std::int64_t>(0) : parse_duration_ms(a.max_duration);
    const auto t = a.job_timeout == "0" ? std::optional<std::int64_t>(0) : parse_duration_ms(a.job_timeout);
    if (!d || !t || *d < 0 || *t < 0) {
        std::fprintf(stderr,
                     "harmony: error: bad --max-duration or --job-timeout (e.g. 2h, 90m, 600s; 0 = none) [usage]\n");
        return false;
    }
    a.max_duration_ms = *d;
    a.job_timeout_ms = *t;
    return true;
}

int run_serve(ServeArgs a, const std::function<void(int)>& on_listening = {}) {
    if (a.data_dir.empty()) a.data_dir = default_data_dir();
    if (!a.token.empty()) {
        std::fprintf(stderr,
                     "harmony: warning: --token on the command line is visible to other users (ps); prefer "
                     "HARMONY_TOKEN or --token-file\n");
    } else if (!a.token_file.empty()) {
        std::ifstream f(a.token_file);
        if (!f || !std::getline(f, a.token)) {
            std::fprintf(stderr, "harmony: error: cannot read the token from %s [usage]\n", a.token_file.c_str());
            return kExitUsage;
        }
        while (!a.token.empty() && (a.token.back() == '\r' || a.token.back() == ' ')) a.token.pop_back();
    } else if (const char* t = std::getenv("HARMONY_TOKEN"); t) {
        a.token = t;
    }
    if (!a.token.empty() && a.token.size() < kMinTokenLength) {
        std::fprintf(stderr,
                     "harmony: error: the token must be at least %zu characters (a guessable token protects "
                     "nothing) [usage]\n",
                     kMinTokenLength);
        return kExitUsage;
    }
    if (!a.callback_hosts.empty()) {
        if (!a.callback_secret_file.empty()) {
            std::ifstream f(a.callback_secret_file);
            if (!f || !std::getline(f, a.callback_secret)) {
                std::fprintf(stderr, "harmony: error: cannot read the callback secret from %s [usage]\n",
                             a.callback_secret_file.c_str());
                return kExitUsage;
            }
            while (!a.callback_secret.empty() && (a.callback_secret.back() == '\r' || a.callback_secret.back() == ' '))
                a.callback_secret.pop_back();
        } else if (const char* t = std::getenv("HARMONY_CALLBACK_SECRET"); t) {
            a.callback_secret = t;
        }
        if (a.callback_secret.size() < kMinTokenLength) {
            std::fprintf(stderr,
                         "harmony: error: --callback-host needs a signing secret of at least %zu characters "
                         "(--callback-secret-file or HARMONY_CALLBACK_SECRET) [usage]\n",
                         kMinTokenLength);
            return kExitUsage;
        }
    } else if (!a.callback_secret_file.empty()) {
        std::fprintf(stderr, "harmony: error: --callback-secret-file without --callback-host [usage]\n");
        return kExitUsage;
    }
    if (!server::http::is_loopback_address(a.bind) && a.token.empty()) {
        std::fprintf(stderr,
                     "harmony: error: binding to %s (beyond loopback) requires --token or HARMONY_TOKEN [usage]\n",
                     a.bind.c_str());
        return kExitUsage;
    }
    const auto max_upload = parse_size(a.max_upload), max_request = parse_size(a.max_request);
    const auto retention = parse_duration_ms(a.retention);
    if (!max_upload || !max_request || !retention) {
        std::fprintf(stderr, "harmony: error: bad size or duration (e.g. 1G, 512M; 7d, 12h, 30s) [usage]\n");
        return kExitUsage;
    }
    if (!parse_limits(a)) return kExitUsage;
    if (!a.file_root.empty() && !std::filesystem::is_directory(a.file_root)) {
        std::fprintf(stderr, "harmony: error: --file-root %s is not a directory [usage]\n", a.file_root.c_str());
        return kExitUsage;
    }
    std::error_code ec;
    std::filesystem::create_directories(a.data_dir, ec);
    const int workers =
        a.jobs >= 0 ? a.jobs
                    : (is_postgres(a.db) ? 0 : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    auto svc = start_service(a, workers, *retention, "serve");
    if (!svc) return kExitOutputError;
    const std::string library_path =
        a.library == "none" ? std::string() : (a.library.empty() ? library::default_library_path() : a.library);
    server::http::Router router(*svc, {a.file_root, a.max_batch, a.callback_hosts, library_path});
    std::unique_ptr<server::http::CallbackSender> callbacks;
    if (!a.callback_hosts.empty()) {
        server::http::CallbackOptions co;
        co.secret = a.callback_secret;
        co.hosts = a.callback_hosts;
        co.max_attempts = a.callback_attempts;
        co.backoff_ms = a.debug_callback_backoff_ms;
        co.log = stderr_sink(a.quiet, "serve");
        callbacks = std::make_unique<server::http::CallbackSender>(*svc, co);
        callbacks->start();
    }
    server::http::HttpServerOptions ho;
    ho.bind_address = a.bind;
    ho.port = a.port;
    ho.token = a.token;
    ho.cors_origins = a.cors_origins;
    ho.allowed_hosts = a.allowed_hosts;
    ho.max_upload_bytes = *max_upload;
    ho.max_request_bytes = *max_request;
    ho.max_connections = a.max_connections;
    ho.idle_timeout_s = a.idle_timeout_s;
    ho.drain_timeout_s = a.drain_timeout_s;
    ho.log = stderr_sink(a.quiet, "serve");
    server::http::HttpServer http(router, ho);
    auto port = http.listen();
    if (!port) {
        print_error(port.error());
        svc->stop();
        return kExitOutputError;
    }
    std::fprintf(stderr, "harmony serve: listening on http://%s:%d (store %s, %d worker thread(s), data %s)\n",
                 a.bind.c_str(), *port, std::string(svc->store_kind()).c_str(), workers, a.data_dir.c_str());
    if (!a.port_file.empty())
        if (auto r = write_text_file(a.port_file, std::to_string(*port) + "\n"); !r) {
            print_error(r.error());
            return kExitOutputError;
        }
    if (on_listening) on_listening(*port);
    Drain drain(*svc, a.drain_timeout_s, "serve");
    http.run(global_stop_token(), global_hard_stop_token());
    drain.finish();
    if (callbacks) callbacks->stop();  // after the drain: jobs ending in it still get theirs
    return kExitOk;
}

/// True when a Harmony service answers GET /health on 127.0.0.1:port (within ~1 s).
bool harmony_answers(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    timeval tv{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string reply;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
        const std::string req = "GET /health HTTP/1.0\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n\r\n";
        if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
            char buf[2048];
            for (ssize_t n; reply.size() < 8192 && (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
                reply.append(buf, static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    return reply.rfind("HTTP/1.", 0) == 0 && reply.find(" 200 ") != std::string::npos &&
           reply.find("\"store\"") != std::string::npos;
}

/// Opens `url` with xdg-open when a graphical session is present; false when it cannot.
bool open_browser(const std::string& url) {
    const char* display = std::getenv("DISPLAY");
    const char* wayland = std::getenv("WAYLAND_DISPLAY");
    if ((!display || !*display) && (!wayland || !*wayland)) return false;
    pid_t pid = 0;
    const char* argv[] = {"xdg-open", url.c_str(), nullptr};
    if (::posix_spawnp(&pid, "xdg-open", nullptr, nullptr, const_cast<char* const*>(argv), environ) != 0) return false;
    int status = 0;
    if (::waitpid(pid, &status, 0) < 0) return false;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

struct AppArgs {
    ServeArgs serve;
    bool no_browser = false;
};

int run_app(AppArgs a) {
    const std::string fragment = a.serve.token.empty() ? std::string() : "#token=" + a.serve.token;
    auto show = [&](int port) {
        const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/" + fragment;
        const bool opened = !a.no_browser && open_browser(url);
        std::fprintf(stdout, "%s\n", url.c_str());
        std::fflush(stdout);
        if (!opened && !a.no_browser)
            std::fprintf(stderr, "harmony app: no browser could be opened; open the URL above\n");
    };
    if (a.serve.port != 0 && harmony_answers(a.serve.port)) {
        std::fprintf(stderr, "harmony app: using the service already running on port %d\n", a.serve.port);
        show(a.serve.port);
        return kExitOk;
    }
    a.serve.bind = "127.0.0.1";
    std::fprintf(stderr, "harmony app: starting the service on loopback (Ctrl-C stops it)\n");
    return run_serve(a.serve, show);
}

/// A worker's private directory `<base>/worker-<host>-<pid>`, locked (flock) while it lives.
class WorkerDir {
public:
    static Result<WorkerDir> open(const std::string& base) {
        namespace fs = std::filesystem;
        std::error_code ec;
        fs::create_directories(base, ec);
        if (ec) return make_error(ErrorCode::kIoError, "cannot create --data-dir " + base + ": " + ec.message());
        char host[256] = {0};
        if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "host");
        const std::string prefix = std::string("worker-") + host + "-";
        for (const auto& e : fs::directory_iterator(base, ec)) {  // directories of dead workers
            const auto name = e.path().filename().string();
            if (name.rfind(prefix, 0) != 0 || !e.is_directory()) continue;
            const int fd = ::open((e.path() / "lock").c_str(), O_RDWR | O_CLOEXEC);
            if (fd < 0) continue;
            if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
                std::error_code rm;
                fs::remove_all(e.path(), rm);
            }
            ::close(fd);
        }
        WorkerDir w;
        w.path_ = (fs::path(base) / (prefix + std::to_string(getpid()))).string();
        fs::create_directories(w.path_, ec);
        if (ec) return make_error(ErrorCode::kIoError, "cannot create " + w.path_ + ": " + ec.message());
        w.fd_ = ::open((fs::path(w.path_) / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (w.fd_ < 0 || ::flock(w.fd_, LOCK_EX | LOCK_NB) != 0)
            return make_error(ErrorCode::kIoError, "cannot lock " + w.path_);
        return w;
    }
    const std::string& path() const { return path_; }
    void remove() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    std::string path_;
    int fd_ = -1;
};

int run_worker(ServeArgs a) {
    if (!is_postgres(a.db)) {
        std::fprintf(stderr, "harmony: error: worker needs --db postgresql://... [usage]\n");
        return kExitUsage;
    }
    // The worker keeps only temporary audio copies, in a directory of its own below --data-dir
    // (or below a fresh temp dir), held by an flock while it runs: on exit it removes that
    // directory and nothing else of --data-dir; on start it removes the directories of workers
    // that died (killed, their lock released) with the copies they left behind.
    const bool own_base = a.data_dir.empty();
    const std::string base =
        own_base ? (std::filesystem::temp_directory_path() / ("harmony-worker-" + std::to_string(getpid()))).string()
                 : a.data_dir;
    auto workdir = WorkerDir::open(base);
    if (!workdir) {
        std::fprintf(stderr, "harmony: error: %s\n", workdir.error().message.c_str());
        return kExitOutputError;
    }
    a.data_dir = workdir->path();
    auto retention = parse_duration_ms(a.retention);
    if (!retention) {
        std::fprintf(stderr, "harmony: error: bad --retention [usage]\n");
        return kExitUsage;
    }
    if (!parse_limits(a)) return kExitUsage;
    const int workers = a.jobs > 0 ? a.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    auto svc = start_service(a, workers, *retention, "worker");
    if (!svc) return kExitOutputError;
    std::fprintf(stderr, "harmony worker: %d thread(s) taking jobs from PostgreSQL\n", workers);
    Drain drain(*svc, a.drain_timeout_s, "worker");
    while (!global_stop_token().stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    drain.finish();
    workdir->remove();
    if (own_base) {
        std::error_code ec;
        std::filesystem::remove(base, ec);  // only if empty: it was made for this worker
    }
    return kExitOk;
}

}  // namespace

void add_serve_commands(CLI::App& app, CommandList& commands) {
    auto args = std::make_shared<ServeArgs>();
    auto* serve = app.add_subcommand("serve", "Run the HTTP job service (see docs/api.md)");
    serve->add_option("--bind", args->bind, "Address to bind (a token is required beyond loopback)")
        ->capture_default_str();
    serve->add_option("--port", args->port, "TCP port (0: any free port)")->capture_default_str();
    serve->add_option("--data-dir", args->data_dir, "Job store, kept uploads, temp files [~/.local/share/harmony]");
    serve->add_option("--db", args->db,
                      "postgresql://... to only enqueue and serve (workers: harmony worker); default SQLite "
                      "in the data dir");
    serve->add_option("--jobs,-j", args->jobs, "Analysis threads (default: cores; 0 with --db postgresql)");
    serve->add_option("--max-upload", args->max_upload, "Upload size limit (413 beyond)")->capture_default_str();
    serve->add_option("--max-request", args->max_request, "Limit for other request bodies")->capture_default_str();
    serve->add_option("--max-connections", args->max_connections, "Concurrent connections (503 beyond)")
        ->capture_default_str();
    serve
        ->add_option("--max-duration", args->max_duration,
                     "Longest audio a job may have (e.g. 2h; 0 = no limit): longer fails with limit_exceeded (422)")
        ->capture_default_str();
    serve
        ->add_option("--job-timeout", args->job_timeout,
                     "Longest an analysis may run (e.g. 10m; 0 = no limit): the job then fails with limit_exceeded")
        ->capture_default_str();
    serve->add_option("--max-batch", args->max_batch, "Tracks in one POST /v1/batches (413 beyond)")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    serve
        ->add_option("--idle-timeout", args->idle_timeout_s,
                     "Seconds a connection may wait for, or take to send, a request's headers (and between reads "
                     "of a body) before it is closed")
        ->check(CLI::Range(1, 86400));
    serve
        ->add_option("--drain-timeout", args->drain_timeout_s,
                     "Seconds after SIGTERM/SIGINT that requests in flight (uploads included) and running jobs get "
                     "to finish; no new connection or job is taken meanwhile, and jobs still running are given "
                     "back to the queue (a second signal stops at once)")
        ->capture_default_str()
        ->check(CLI::Range(0, 3600));
    serve->add_option("--retention", args->retention, "Finished jobs and their audio are removed after this")
        ->capture_default_str();
    serve->add_option("--token", args->token,
                      "Bearer token required on /v1, at least 16 characters (visible in ps: prefer HARMONY_TOKEN or "
                      "--token-file)");
    serve->add_option("--token-file", args->token_file, "Read the bearer token from the first line of this file");
    serve->add_option("--callback-host", args->callback_hosts,
                      "Host (or host:port; '*': any) a job's callback_url may name (repeatable); completion "
                      "callbacks are off without it");
    serve->add_option("--callback-secret-file", args->callback_secret_file,
                      "HMAC-SHA256 key for the Harmony-Signature of callbacks, first line of this file (or "
                      "HARMONY_CALLBACK_SECRET; at least 16 characters)");
    serve->add_option("--callback-attempts", args->callback_attempts, "Attempts before a callback is given up")
        ->capture_default_str()
        ->check(CLI::Range(1, 100));
    serve
        ->add_option("--debug-callback-backoff-ms", args->debug_callback_backoff_ms,
                     "TEST ONLY: wait after a callback's first failure (doubles each time)")
        ->group("")
        ->check(CLI::Range(1, 3600000));
    serve->add_option("--file-root", args->file_root,
                      "Allow jobs to name server-side files, confined below this directory (off by default)");
    serve->add_option("--library", args->library,
                      "The track library `harmony analyze` fills, served read-only at /v1/library (default: "
                      "$HARMONY_LIBRARY or the user data dir; 'none': not served)");
    serve->add_option("--cors-origin", args->cors_origins, "Browser origin allowed to call the API (repeatable)");
    serve->add_option("--allowed-host", args->allowed_hosts,
                      "Host name the server answers for (repeatable; '*': any). Default: loopback names when bound "
                      "to loopback (DNS-rebinding protection), any beyond");
    serve->add_option("--max-attempts", args->max_attempts, "A job fails after this many attempts")
        ->capture_default_str();
    serve->add_option("--lease", args->lease_s, "Worker lease in seconds (heartbeat every lease/3)")
        ->capture_default_str();
    serve->add_option("--port-file", args->port_file, "Write the bound port to this file once listening");
    serve
        ->add_option("--debug-job-delay-ms", args->debug_job_delay_ms,
                     "TEST ONLY: each job sleeps this long before analysing")
        ->group("");
    serve->add_flag("--quiet,-q", args->quiet, "No log lines on stderr");
    commands.push_back({serve, [args] { return run_serve(*args); }});

    auto wargs = std::make_shared<ServeArgs>();
    auto* worker = app.add_subcommand("worker", "Take jobs from a PostgreSQL queue (harmony serve --db ...)");
    worker->add_option("--db", wargs->db, "postgresql://user@host:port/db")->required();
    worker->add_option("--jobs,-j", wargs->jobs, "Analysis threads (default: cores)");
    worker->add_option("--max-duration", wargs->max_duration, "Longest audio a job may have (0 = no limit)")
        ->capture_default_str();
    worker->add_option("--job-timeout", wargs->job_timeout, "Longest an analysis may run (0 = no limit)")
        ->capture_default_str();
    worker->add_option("--data-dir", wargs->data_dir, "Temp files (default: a fresh dir under /tmp)");
    worker
        ->add_option("--drain-timeout", wargs->drain_timeout_s,
                     "Seconds after SIGTERM/SIGINT that running jobs get to finish before they are given back to "
                     "the queue (no new job is taken meanwhile; a second signal stops at once)")
        ->capture_default_str()
        ->check(CLI::Range(0, 3600));
    worker->add_option("--lease", wargs->lease_s, "Lease in seconds (heartbeat every lease/3)")->capture_default_str();
    worker->add_option("--retention", wargs->retention, "Also sweep finished jobs older than this")
        ->capture_default_str();
    worker
        ->add_option("--debug-job-delay-ms", wargs->debug_job_delay_ms,
                     "TEST ONLY: each job sleeps this long before analysing")
        ->group("");
    worker->add_flag("--quiet,-q", wargs->quiet, "No log lines on stderr");
    commands.push_back({worker, [wargs] { return run_worker(*wargs); }});

    auto aargs = std::make_shared<AppArgs>();
    auto* appc = app.add_subcommand(
        "app", "Open the web app: starts the service on loopback unless one runs on --port, then the browser");
    appc->add_option("--port", aargs->serve.port, "TCP port of the service (0: a new server on any free port)")
        ->capture_default_str();
    appc->add_option("--data-dir", aargs->serve.data_dir, "Job store of a started service [~/.local/share/harmony]");
    appc->add_option("--jobs,-j", aargs->serve.jobs, "Analysis threads of a started service (default: cores)");
    appc->add_option("--token", aargs->serve.token, "Bearer token of the service (passed to the page in the URL)");
    appc->add_option("--port-file", aargs->serve.port_file, "Write the bound port to this file once listening");
    appc->add_flag("--no-browser", aargs->no_browser, "Only print the URL");
    appc->add_flag("--quiet,-q", aargs->serve.quiet, "No log lines on stderr");
    commands.push_back({appc, [aargs] { return run_app(*aargs); }});
}

}  // namespace harmony::cli
