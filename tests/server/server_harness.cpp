#include "server_harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "dsp/synth.hpp"
#include "io/wav_writer.hpp"
#include "support/test_support.hpp"

namespace harmony::test {

namespace fs = std::filesystem;

std::string harmony_bin() {
    return HARMONY_BIN;
}

Child::Child(const std::vector<std::string>& argv, const std::string& log_path) {
    pid_ = fork();
    if (pid_ == 0) {
        const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        setpgid(0, 0);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
}

Child& Child::operator=(Child&& o) noexcept {
    if (this != &o) {
        if (pid_ > 0) terminate(2000);
        pid_ = o.pid_;
        o.pid_ = -1;
    }
    return *this;
}

Child::~Child() {
    if (pid_ > 0) terminate(3000);
}

bool Child::running() {
    if (pid_ <= 0) return false;
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        pid_ = -1;
        return false;
    }
    return true;
}

void Child::kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
}

std::optional<int> Child::wait_exit(int timeout_ms) {
    if (pid_ <= 0) return 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        const pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::nullopt;
}

int Child::terminate(int grace_ms) {
    if (pid_ <= 0) return 0;
    ::kill(pid_, SIGTERM);
    if (auto rc = wait_exit(grace_ms)) return *rc;
    kill9();
    return -9;
}

Server::Server(std::string data_dir, std::vector<std::string> extra)
    : data_dir_(std::move(data_dir)), extra_(std::move(extra)) {}

bool Server::start() {
    fs::create_directories(data_dir_);
    const std::string port_file = data_dir_ + "/port";
    std::error_code ec;
    fs::remove(port_file, ec);
    std::vector<std::string> argv = {harmony_bin(), "serve",   "--port",     "0",
                                     "--port-file", port_file, "--data-dir", data_dir_};
    bool has_jobs = false;
    for (const auto& e : extra_) has_jobs = has_jobs || e == "--jobs" || e == "--db";
    if (!has_jobs) argv.insert(argv.end(), {"--jobs", "2"});
    argv.insert(argv.end(), extra_.begin(), extra_.end());
    child_ = Child(argv, data_dir_ + "/server.log");
    for (int i = 0; i < 400; ++i) {
        if (fs::exists(port_file)) {
            std::ifstream f(port_file);
            f >> port_;
            if (port_ > 0) return true;
        }
        if (!child_.running()) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

httplib::Client Server::client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(5);
    c.set_read_timeout(30);
    c.set_write_timeout(30);
    return c;
}

std::string Server::log() const {
    std::ifstream f(data_dir_ + "/server.log");
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::string make_wav_bytes(double seconds, int seed, int rate_hz) {
    std::vector<float> x(static_cast<size_t>(seconds * rate_hz), 0.0f);
    const double bpm = 100.0 + 3.0 * (seed % 20);
    for (double t = 0.05; t < seconds; t += 60.0 / bpm) dsp::synth::add_click(x, rate_hz, t, 0.8f);
    const double root = 48 + seed % 12;
    for (double m : {0.0, 4.0, 7.0})
        dsp::synth::add_harmonic_note(x, rate_hz, 0.0, seconds, dsp::synth::midi_to_hz(root + m), 0.08f);
    x[static_cast<size_t>(seed) % x.size()] += 1e-3f * static_cast<float>(seed % 97);  // distinct bytes
    TempDir tmp;
    const auto path = tmp.file("a.wav");
    (void)io::write_wav16(path, x, 1, rate_hz);
    return read_file(path);
}

nlohmann::json wait_job(httplib::Client& c, const std::string& id, int timeout_ms,
                        const std::vector<std::pair<std::string, std::string>>& headers) {
    httplib::Headers h;
    for (const auto& [k, v] : headers) h.emplace(k, v);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    nlohmann::json last;
    while (std::chrono::steady_clock::now() < deadline) {
        auto r = c.Get(("/v1/jobs/" + id).c_str(), h);
        if (r && r->status == 200) {
            last = nlohmann::json::parse(r->body);
            const auto s = last["status"].get<std::string>();
            if (s == "succeeded" || s == "failed" || s == "canceled") return last;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return last;
}

httplib::Result post_audio(httplib::Client& c, const std::string& bytes, const std::string& query,
                           const std::string& content_type) {
    return c.Post(("/v1/jobs" + query).c_str(), bytes, content_type.c_str());
}

namespace {

/// Reads up to n bytes with a deadline; false on timeout or close before n.
bool read_exact(int fd, std::string& buf, std::size_t n, std::chrono::steady_clock::time_point deadline) {
    char tmp[65536];
    while (buf.size() < n) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) return false;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
        const ssize_t r = ::read(fd, tmp, sizeof tmp);
        if (r <= 0) return false;
        buf.append(tmp, static_cast<size_t>(r));
    }
    return true;
}

}  // namespace

int websocket_collect(int port, const std::string& path, std::vector<std::string>& messages, int timeout_ms,
                      const std::string& origin) {
    const int fd = connect_loopback(port);
    if (fd < 0) return -1;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                      "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    if (!origin.empty()) req += "Origin: " + origin + "\r\n";
    req += "\r\n";
    if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
        ::close(fd);
        return -1;
    }
    std::string buf;
    std::size_t hend;
    while ((hend = buf.find("\r\n\r\n")) == std::string::npos)
        if (!read_exact(fd, buf, buf.size() + 1, deadline)) {
            ::close(fd);
            return -1;
        }
    const int status = std::stoi(buf.substr(9, 3));
    buf.erase(0, hend + 4);
    if (status != 101) {
        ::close(fd);
        return status;
    }
    for (;;) {
        if (!read_exact(fd, buf, 2, deadline)) break;
        const int opcode = buf[0] & 0x0f;
        std::size_t len = static_cast<unsigned char>(buf[1]) & 0x7f;
        std::size_t off = 2;
        if (len == 126) {
            if (!read_exact(fd, buf, 4, deadline)) break;
            len = (static_cast<unsigned char>(buf[2]) << 8) | static_cast<unsigned char>(buf[3]);
            off = 4;
        } else if (len == 127) {
            if (!read_exact(fd, buf, 10, deadline)) break;
            len = 0;
            for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<unsigned char>(buf[2 + i]);
            off = 10;
        }
        if (!read_exact(fd, buf, off + len, deadline)) break;
        const std::string payload = buf.substr(off, len);
        buf.erase(0, off + len);
        if (opcode == 1) messages.push_back(payload);
        if (opcode == 8) {  // close: answer with a masked close frame
            const unsigned char close_frame[] = {0x88, 0x80, 0, 0, 0, 0};
            (void)!::write(fd, close_frame, sizeof close_frame);
            break;
        }
    }
    ::close(fd);
    return status;
}

std::string sse_collect(int port, const std::string& path, int timeout_ms) {
    const int fd = connect_loopback(port);
    if (fd < 0) return {};
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
    (void)!::write(fd, req.data(), req.size());
    std::string buf;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (read_exact(fd, buf, buf.size() + 1, deadline)) {
    }
    ::close(fd);
    return buf;
}

int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    const int port = ntohs(a.sin_port);
    ::close(fd);
    return port;
}

int connect_loopback(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

/// True when the server closed the connection within `ms` (read returns 0 or an error).
bool closed_within(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return false;
    char c;
    return ::recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

}  // namespace harmony::test
