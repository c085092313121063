#include "support/test_support.hpp"

#include "dsp/synth.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <cstring>
#include <fstream>
#include <numbers>
#include <sstream>
#include <stdexcept>

namespace harmony::test {

TempDir::TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "harmony-test-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
}

CommandResult run_command(const std::vector<std::string>& argv, int timeout_s) {
    int out_pipe[2], err_pipe[2];
    if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) throw std::runtime_error("pipe failed");
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        close(out_pipe[0]);
        close(err_pipe[0]);
        close(out_pipe[1]);
        close(err_pipe[1]);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    CommandResult r;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    int open_fds = 2;
    char buf[65536];
    bool killed = false;
    while (open_fds > 0) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) {
            kill(pid, SIGKILL);
            killed = true;
            break;
        }
        if (poll(fds, 2, static_cast<int>(std::min<long long>(left, 1000))) < 0) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP)) != 0) {
                const ssize_t n = read(fds[i].fd, buf, sizeof buf);
                if (n <= 0) {
                    close(fds[i].fd);
                    fds[i].fd = -1;
                    --open_fds;
                } else {
                    (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
                }
            }
        }
    }
    for (auto& f : fds)
        if (f.fd >= 0) close(f.fd);
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
    if (killed) r.err += "\n[test harness: killed after timeout]";
    return r;
}

bool have_program(const std::string& name) {
    return run_command({"sh", "-c", "command -v " + name + " >/dev/null 2>&1"}).exit_code == 0;
}

std::string shared_data_dir() {
    if (const char* env = std::getenv("HARMONY_SHARED_DATA")) return env;
#ifdef HARMONY_SOURCE_DIR
    return std::string(HARMONY_SOURCE_DIR) + "/../shared/data";
#else
    return "../shared/data";
#endif
}

void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream f(path, std::ios::binary);
    f << bytes;
}

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::string base64_decode(const std::string& in) {
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    int val = 0, bits = -8;
    for (char c : in) {
        const auto pos = alphabet.find(c);
        if (pos == std::string::npos) continue;
        val = (val << 6) | static_cast<int>(pos);
        bits += 6;
        if (bits >= 0) {
            out += static_cast<char>((val >> bits) & 0xff);
            bits -= 8;
        }
    }
    return out;
}

std::uint32_t be_u32(const std::string& s, size_t at) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s.at(at + i));
    return v;
}

float be_f32(const std::string& s, size_t at) {
    const std::uint32_t v = be_u32(s, at);
    float f;
    std::memcpy(&f, &v, 4);
    return f;
}

double f_measure(const std::vector<double>& ref, const std::vector<double>& est, double tol) {
    if (ref.empty() || est.empty()) return 0.0;
    std::vector<bool> used(est.size(), false);
    size_t hits = 0;
    for (double r : ref) {
        for (size_t j = 0; j < est.size(); ++j) {
            if (!used[j] && std::abs(est[j] - r) <= tol) {
                used[j] = true;
                ++hits;
                break;
            }
        }
    }
    const double p = static_cast<double>(hits) / static_cast<double>(est.size());
    const double rc = static_cast<double>(hits) / static_cast<double>(ref.size());
    return p + rc > 0 ? 2 * p * rc / (p + rc) : 0.0;
}

std::vector<double> after(const std::vector<double>& v, double t) {
    std::vector<double> out;
    for (double x : v)
        if (x >= t) out.push_back(x);
    return out;
}

void add_sustained_note(std::vector<float>& x, int rate_hz, double t0_s, double dur_s, double midi, float amp,
                        int partials) {
    const auto n0 = static_cast<size_t>(t0_s * rate_hz);
    const auto n = static_cast<size_t>(dur_s * rate_hz);
    if (x.size() < n0 + n + 1) x.resize(n0 + n + 1, 0.0f);
    const double f = dsp::synth::midi_to_hz(midi);
    for (size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / rate_hz;
        const double env = std::min({1.0, t / 0.01, (dur_s - t) / 0.01});
        double s = 0.0;
        for (int k = 1; k <= partials && k * f < rate_hz / 2.0; ++k)
            s += std::sin(2.0 * std::numbers::pi * k * f * t) / k;
        x[n0 + i] += static_cast<float>(amp * env * s);
    }
}

}  // namespace harmony::test
