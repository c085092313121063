#include "server/http/callbacks.hpp"

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "server/http/router.hpp"

namespace harmony::server::http {

namespace {

Error bad_url(const std::string& why) {
    return make_error(ErrorCode::kInvalidArgument, "callback_url: " + why);
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

Result<CallbackUrl> parse_callback_url(const std::string& url) {
    if (url.empty()) return bad_url("empty");
    if (url.size() > 2048) return bad_url("longer than 2048 bytes");
    for (unsigned char c : url)
        if (c <= 0x20 || c >= 0x7f) return bad_url("spaces, control and non-ASCII characters must be percent-encoded");
    CallbackUrl u;
    const auto sep = url.find("://");
    if (sep == std::string::npos) return bad_url("not an absolute URL (http://host/path)");
    u.scheme = lower(url.substr(0, sep));
    if (u.scheme != "http" && u.scheme != "https") return bad_url("only http and https are supported");
    const auto rest = url.substr(sep + 3);
    const auto slash = rest.find_first_of("/?#");
    const auto authority = rest.substr(0, slash);
    u.target = slash == std::string::npos ? "/" : rest.substr(slash);
    if (u.target.find('#') != std::string::npos) return bad_url("a fragment (#) is not allowed");
    if (u.target.front() == '?') u.target = "/" + u.target;
    if (authority.find('@') != std::string::npos) return bad_url("user information (user@host) is not allowed");
    std::string host = authority, port;
    if (!host.empty() && host.front() == '[') {  // IPv6 literal
        const auto close = host.find(']');
        if (close == std::string::npos) return bad_url("unterminated IPv6 address");
        port = host.substr(close + 1);
        host = host.substr(1, close - 1);
        if (!port.empty() && port.front() != ':') return bad_url("bad port");
        if (!port.empty()) port = port.substr(1);
    } else if (const auto colon = host.rfind(':'); colon != std::string::npos) {
        port = host.substr(colon + 1);
        host = host.substr(0, colon);
    }
    if (host.empty()) return bad_url("no host");
    u.host = lower(host);
    if (port.empty()) {
        u.port = u.scheme == "https" ? 443 : 80;
    } else {
        if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return bad_url("bad port");
        u.port = std::stoi(port);
        if (u.port < 1 || u.port > 65535) return bad_url("bad port");
    }
    return u;
}

bool callback_host_allowed(const CallbackUrl& u, const std::vector<std::string>& allowed) {
    for (const auto& a0 : allowed) {
        const auto a = lower(a0);
        if (a == "*" || a == u.host || a == u.host + ":" + std::to_string(u.port) ||
            a == "[" + u.host + "]:" + std::to_string(u.port))
            return true;
    }
    return false;
}

std::string hmac_sha256_hex(const std::string& key, const std::string& data) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
         data.size(), mac, &n);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < n; ++i) {
        out += hex[mac[i] >> 4];
        out += hex[mac[i] & 15];
    }
    return out;
}

std::string callback_signature(const std::string& secret, std::int64_t unix_s, const std::string& body) {
    const auto t = std::to_string(unix_s);
    return "t=" + t + ",v1=" + hmac_sha256_hex(secret, t + "." + body);
}

struct CallbackSender::Impl {
    Service& svc;
    CallbackOptions opt;
    std::jthread thread;

    Impl(Service& s, CallbackOptions o) : svc(s), opt(std::move(o)) {}

    void log(const std::string& s) const {
        if (opt.log) opt.log(s);
    }

    /// One attempt; empty string: delivered (2xx), else why not.
    std::string send(const CallbackUrl& u, const std::string& event_id, int attempt, const std::string& body) {
        const std::string base = u.scheme + "://" +
                                 (u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host) + ":" +
                                 std::to_string(u.port);
        httplib::Client cli(base);
        const auto to = std::chrono::milliseconds(opt.timeout_ms);
        cli.set_connection_timeout(to);
        cli.set_read_timeout(to);
        cli.set_write_timeout(to);
        cli.set_follow_location(false);  // a redirect is not followed: it could lead off the allow-list
        const auto now_s =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        httplib::Headers h = {{"User-Agent", "harmony"},
                              {"Harmony-Event-Id", event_id},
                              {"Harmony-Delivery-Attempt", std::to_string(attempt)},
                              {"Harmony-Signature", callback_signature(opt.secret, now_s, body)}};
        auto r = cli.Post(u.target, h, body, "application/json");
        if (!r) return "no answer (" + httplib::to_string(r.error()) + ")";
        if (r->status >= 200 && r->status < 300) return {};
        return "HTTP " + std::to_string(r->status);
    }

    void deliver(const CallbackDue& d) {
        const int attempt = d.attempts + 1;
        std::string error;
        auto u = parse_callback_url(d.url);
        bool give_up = false;
        if (!u) {
            error = u.error().message;
            give_up = true;
        } else if (!callback_host_allowed(*u, opt.hosts)) {
            error = "the host is no longer allowed (--callback-host)";
            give_up = true;
        } else {
            auto job = svc.job(d.job_id);
            if (!job || !job->has_value()) {
                error = "the job is gone";
                give_up = true;
            } else {
                nlohmann::json payload = {{"type", "job.finished"}, {"job", job_resource(**job)}};
                error =
                    send(*u, d.job_id, attempt, payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
            }
        }
        const bool delivered = error.empty();
        std::int64_t next = 0;
        if (!delivered && !give_up && attempt < opt.max_attempts) {
            const auto wait = std::min<std::int64_t>(opt.backoff_ms << std::min(attempt - 1, 20), 3600LL * 1000);
            next = now_ms() + wait;
        }
        if (auto r = svc.store().record_callback(d.job_id, attempt, delivered, next, error); !r)
            log("callback for job " + d.job_id + ": cannot record the attempt: " + r.error().message);
        if (delivered)
            log("callback for job " + d.job_id + " delivered (attempt " + std::to_string(attempt) + ")");
        else if (next > 0)
            log("callback for job " + d.job_id + " attempt " + std::to_string(attempt) + " failed: " + error +
                "; retried in " + std::to_string((next - now_ms() + 500) / 1000) + " s");
        else
            log("callback for job " + d.job_id + " given up after " + std::to_string(attempt) +
                " attempt(s): " + error);
    }

    void loop(std::stop_token st) {
        const std::int64_t lease = 2 * opt.timeout_ms + 30000;
        while (!st.stop_requested()) {
            auto due = svc.store().due_callbacks(lease, 16);
            if (!due) log("callbacks: " + due.error().message);
            if (due)
                for (const auto& d : *due) {
                    if (st.stop_requested()) break;  // the rest are retried after their lease
                    deliver(d);
                }
            if (!due || due->empty()) {
                for (std::int64_t slept = 0; slept < opt.poll_ms && !st.stop_requested(); slept += 20)
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
    }
};

CallbackSender::CallbackSender(Service& svc, CallbackOptions options)
    : impl_(std::make_unique<Impl>(svc, std::move(options))) {}

CallbackSender::~CallbackSender() {
    stop();
}

void CallbackSender::start() {
    if (!impl_->thread.joinable()) impl_->thread = std::jthread([this](std::stop_token st) { impl_->loop(st); });
}

void CallbackSender::stop() {
    if (impl_->thread.joinable()) {
        impl_->thread.request_stop();
        impl_->thread.join();
    }
}

}  // namespace harmony::server::http
