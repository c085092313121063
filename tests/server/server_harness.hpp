// Drives the real `harmony serve` / `harmony worker` binaries on loopback for the server tests.
#pragma once

#include <httplib.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace harmony::test {

/// A child process (argv, no shell) with stdout/stderr to a log file.
class Child {
public:
    Child() = default;
    Child(const std::vector<std::string>& argv, const std::string& log_path);
    ~Child();
    Child(Child&& o) noexcept : pid_(o.pid_) { o.pid_ = -1; }
    Child& operator=(Child&& o) noexcept;
    pid_t pid() const { return pid_; }
    bool running();
    void kill9();
    /// SIGTERM, then SIGKILL after `grace_ms`; returns the exit status (or -signal).
    int terminate(int grace_ms = 5000);
    /// Waits for exit up to `timeout_ms`; returns the exit code, or nullopt when still running.
    std::optional<int> wait_exit(int timeout_ms);

private:
    pid_t pid_ = -1;
};

/// `harmony serve --port 0 --port-file ... --data-dir <dir> <extra...>`.
class Server {
public:
    Server(std::string data_dir, std::vector<std::string> extra = {});
    ~Server() = default;
    bool start();  // false when it did not come up within 20 s
    void kill9() { child_.kill9(); }
    int stop() { return child_.terminate(); }
    pid_t pid() const { return child_.pid(); }
    /// Waits for the process to exit (after a signal sent to pid()); nullopt when still running.
    std::optional<int> wait_exit(int timeout_ms) { return child_.wait_exit(timeout_ms); }
    int port() const { return port_; }
    std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
    httplib::Client client() const;
    std::string log() const;
    const std::string& data_dir() const { return data_dir_; }

private:
    std::string data_dir_;
    std::vector<std::string> extra_;
    Child child_;
    int port_ = 0;
};

std::string harmony_bin();

/// A short synthetic track (clicks + a chord), distinct per `seed`, written as 16-bit WAV bytes.
std::string make_wav_bytes(double seconds, int seed, int rate_hz = 22050);

/// Polls GET /v1/jobs/{id} until a final status or the timeout; returns the last job JSON.
nlohmann::json wait_job(httplib::Client& c, const std::string& id, int timeout_ms = 60000,
                        const std::vector<std::pair<std::string, std::string>>& headers = {});

/// POSTs raw audio to /v1/jobs (query appended to the path), returns the response.
httplib::Result post_audio(httplib::Client& c, const std::string& bytes, const std::string& query = "",
                           const std::string& content_type = "audio/wav");

/// Minimal WebSocket client: connects, upgrades, collects text messages until the server closes
/// or the timeout. Returns the HTTP status of the handshake (101 on success).
int websocket_collect(int port, const std::string& path, std::vector<std::string>& messages, int timeout_ms,
                      const std::string& origin = {});

/// Reads a Server-Sent Events stream until it ends or the timeout; returns the raw text.
std::string sse_collect(int port, const std::string& path, int timeout_ms);

/// A free TCP port on 127.0.0.1 (bind to 0, read, close).
int free_port();

/// A raw TCP connection to 127.0.0.1:port (-1 when refused).
int connect_loopback(int port);
/// True when the server closed the connection within `ms` (read returns 0 or an error).
bool closed_within(int fd, int ms);

}  // namespace harmony::test
