// Harmony service — completion callbacks (webhooks). A job submitted with a `callback_url` is
// POSTed to that URL once it ends (succeeded, failed or canceled), signed with HMAC-SHA256 so the
// receiver can check it came from this server, and retried with exponential backoff until a 2xx
// answer or the attempts run out. The outbox is the job store (the callback row is written in
// the job's own transaction), so a restart or kill -9 never loses a pending callback; delivery is
// at least once (receivers deduplicate on the Harmony-Event-Id header).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harmony/error.hpp"
#include "server/service.hpp"

namespace harmony::server::http {

struct CallbackUrl {
    std::string scheme;  // "http" or "https"
    std::string host;    // lower-case; IPv6 literals without brackets
    int port = 0;
    std::string target;  // path and query, at least "/"
};

/// Parses an absolute http(s) URL (no user info, no fragment, at most 2048 bytes).
Result<CallbackUrl> parse_callback_url(const std::string& url);

/// `allowed` holds "host" (any port), "host:port" or "*". Empty: callbacks are off.
bool callback_host_allowed(const CallbackUrl& u, const std::vector<std::string>& allowed);

/// Lower-case hex HMAC-SHA256 of `data` under `key`.
std::string hmac_sha256_hex(const std::string& key, const std::string& data);

/// The Harmony-Signature header: "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>".
std::string callback_signature(const std::string& secret, std::int64_t unix_s, const std::string& body);

struct CallbackOptions {
    std::string secret;               // signing key (at least 16 bytes)
    std::vector<std::string> hosts;   // allowed receivers (re-checked at send time)
    int max_attempts = 8;             // then the callback is given up (state "failed")
    std::int64_t backoff_ms = 1000;   // wait after the first failure; doubles, at most 1 h
    std::int64_t timeout_ms = 10000;  // connect and read timeout of one attempt
    std::int64_t poll_ms = 200;       // how often due callbacks are looked for
    LogSink log;
};

/// Sends due callbacks from the job store on one background thread.
class CallbackSender {
public:
    CallbackSender(Service& svc, CallbackOptions options);
    ~CallbackSender();
    CallbackSender(const CallbackSender&) = delete;
    CallbackSender& operator=(const CallbackSender&) = delete;
    void start();
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace harmony::server::http
