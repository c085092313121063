#include "cli/common.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

namespace harmony::cli {

namespace {
std::stop_source& stop_source() {
    static std::stop_source s;
    return s;
}
std::stop_source& hard_stop_source() {
    static std::stop_source s;
    return s;
}
volatile std::sig_atomic_t g_signalled = 0;
void on_signal(int) {
    if (g_signalled < 2) g_signalled = g_signalled + 1;
}
}  // namespace

std::stop_token global_stop_token() {
    return stop_source().get_token();
}

std::stop_token global_hard_stop_token() {
    return hard_stop_source().get_token();
}

void install_signal_watch() {
    // A signal handler may not touch a stop_source; a watcher thread forwards the flag.
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::thread([] {
        while (!g_signalled) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        stop_source().request_stop();
        while (g_signalled < 2) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        hard_stop_source().request_stop();
    }).detach();
}

void print_error(const Error& e) {
    std::fprintf(stderr, "harmony: error: %s [%s]\n", e.message.c_str(), std::string(error_code_name(e.code)).c_str());
}

Result<void> write_text_file(const std::string& path, const std::string& text) {
    namespace fs = std::filesystem;
    std::error_code sec;
    const auto st = fs::status(path, sec);  // follows a symlink to what it names
    if (!sec && fs::exists(st) && !fs::is_regular_file(st)) {
        // A device, FIFO or socket (-o /dev/null, -o /dev/stdout, a named pipe): written to as it
        // is. Renaming a temporary file over it would replace the node itself (as root,
        // `-o /dev/null` turned /dev/null into a regular file).
        if (fs::is_directory(st)) return make_error(ErrorCode::kIoError, "cannot write " + path + ": a directory");
        std::ofstream f(path, std::ios::binary);
        if (!f) return make_error(ErrorCode::kIoError, "cannot write " + path);
        f << text;
        f.flush();
        if (!f.good()) return make_error(ErrorCode::kIoError, "write failed: " + path);
        return {};
    }
    // A symlink is written through (its target replaced atomically), not replaced by a file.
    const std::string target =
        fs::is_symlink(fs::symlink_status(path, sec)) && fs::exists(st) ? fs::canonical(path, sec).string() : path;
    return write_regular_file(target.empty() ? path : target, text);
}

Result<void> write_regular_file(const std::string& path, const std::string& text) {
    namespace fs = std::filesystem;
    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary);
        if (!f) return make_error(ErrorCode::kIoError, "cannot write " + path);
        f << text;
        f.flush();
        if (!f.good()) return make_error(ErrorCode::kIoError, "write failed: " + path);
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        return make_error(ErrorCode::kIoError, "cannot write " + path);
    }
    return {};
}

std::vector<std::string> split_csv(const std::string& s) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == ',') {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
        } else if (c != ' ') {
            cur += c;
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}

}  // namespace harmony::cli
