// Harmony service — the socket layer (Boost.Beast): one thread per connection with keep-alive,
// header/body limits (uploads streamed to disk), bearer-token check, CORS for the UI's origin, and
// the progress streams (WebSocket, or Server-Sent Events) on /v1/{jobs,batches}/{id}/events.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "server/http/router.hpp"

namespace harmony::server::http {

struct HttpServerOptions {
    std::string bind_address = "127.0.0.1";
    int port = 8717;                        // 0: any free port
    std::string token;                      // bearer token; required beyond loopback
    std::vector<std::string> cors_origins;  // origins allowed to call the API from a browser
    // Host header names served (port ignored; "*": any). Empty: loopback names only when bound to
    // loopback (a foreign name there is DNS rebinding), any name beyond loopback.
    std::vector<std::string> allowed_hosts;
    std::int64_t max_upload_bytes = 1LL << 30;   // audio uploads (413 beyond)
    std::int64_t max_request_bytes = 1LL << 20;  // other request bodies (413 beyond)
    int max_connections = 1024;                  // 503 beyond
    int idle_timeout_s = 60;                     // a silent connection is closed after this
    int drain_timeout_s = 20;                    // after stop: how long requests in flight may take
    int event_interval_ms = 100;                 // progress stream poll period
    bool access_log = true;                      // one JSON line per request through `log`
    LogSink log;
};

/// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_address(const std::string& address);

/// The name of a Host header value without its port ("[::1]:80" -> "::1", "a.b:8717" -> "a.b").
std::string host_name(const std::string& host_header);

/// Whether a request with this Host header may be served (see HttpServerOptions::allowed_hosts).
bool host_allowed(const std::string& host_header, const std::vector<std::string>& allowed,
                  const std::string& bind_address);

class HttpServer {
public:
    HttpServer(Router& router, HttpServerOptions options);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    /// Binds and listens; returns the bound port.
    Result<int> listen();
    /// Serves until `stop`, then drains: no new connection is accepted, idle keep-alive
    /// connections and progress streams are closed, requests in flight (uploads included) are
    /// answered with `Connection: close` until drain_timeout_s or `hard_stop`; then every
    /// connection still open is closed.
    void run(std::stop_token stop, std::stop_token hard_stop = {});

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace harmony::server::http
