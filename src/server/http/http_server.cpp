#include "server/http/http_server.hpp"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>
#include <nlohmann/json.hpp>
#include <random>
#include <cmath>
#include <atomic>
#include <filesystem>
#include <limits>
#include <mutex>
#include <map>
#include <thread>

#include "core/utf8.hpp"
#include "server/http/app_assets.hpp"
#include "server/http/request_target.hpp"

namespace harmony::server::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

bool is_loopback_address(const std::string& address) {
    if (address == "localhost") return true;
    boost::system::error_code ec;
    const auto a = asio::ip::make_address(address, ec);
    return !ec && a.is_loopback();
}

std::string host_name(const std::string& host_header) {
    std::string h = host_header;
    if (!h.empty() && h.front() == '[') {  // [v6]:port
        const auto close = h.find(']');
        return close == std::string::npos ? h : h.substr(1, close - 1);
    }
    const auto colon = h.find(':');
    if (colon != std::string::npos && h.find(':', colon + 1) == std::string::npos) h.resize(colon);
    if (!h.empty() && h.back() == '.') h.pop_back();  // "localhost." is "localhost"
    for (auto& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return h;
}

bool host_allowed(const std::string& host_header, const std::vector<std::string>& allowed,
                  const std::string& bind_address) {
    const std::string name = host_name(host_header);
    if (allowed.empty()) return !is_loopback_address(bind_address) || (!name.empty() && is_loopback_address(name));
    for (const auto& a : allowed)
        if (a == "*" || host_name(a) == name) return true;
    return false;
}

namespace {

constexpr const char* kServerName = "harmony";

/// The client's X-Request-Id when it is a sane token (1-64 of [A-Za-z0-9._-]), else a new one.
std::string request_id_for(const std::string& given) {
    bool ok = !given.empty() && given.size() <= 64;
    for (char c : given) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
    if (ok) return given;
    static std::atomic<std::uint64_t> counter{0};
    thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[40];
    std::snprintf(buf, sizeof buf, "%012llx-%llx", static_cast<unsigned long long>(rng() & 0xffffffffffffULL),
                  static_cast<unsigned long long>(++counter));
    return buf;
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool constant_time_equal(const std::string& a, const std::string& b) {
    if (a.size() != b.size()) return false;
    unsigned char d = 0;
    for (std::size_t i = 0; i < a.size(); ++i) d |= static_cast<unsigned char>(a[i] ^ b[i]);
    return d == 0;
}

}  // namespace

struct HttpServer::Impl {
    Router& router;
    HttpServerOptions opt;
    asio::io_context ioc;
    tcp::acceptor acceptor{ioc};
    // Open connections and their deadlines. The blocking socket calls of a session cannot time
    // out by themselves (asio waits in poll() without a limit, so SO_RCVTIMEO has no effect, and a
    // client trickling one byte at a time would reset any per-read timeout anyway): the accept
    // loop shuts down every connection past its deadline, and at --max-connections evicts the
    // longest-waiting idle one (no request in progress) instead of refusing the newcomer:
    // first among those that never delivered a request header (header-less or trickling: what a
    // slow or idle attacker holds), then among idle keep-alive clients (evict_idle).
    struct Conn {
        int fd = -1;
        std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
        std::chrono::steady_clock::time_point idle_since = std::chrono::steady_clock::time_point::max();
        bool shut = false;
        bool had_request = false;  // a whole request header arrived on it
    };
    std::mutex conns_mu;
    std::map<std::uint64_t, Conn> conns;
    std::uint64_t next_conn = 0;

    /// Deadline `seconds` from now (0: none); `idle`: waiting for a request (may be evicted).
    void arm(std::uint64_t id, int seconds, bool idle) {
        const auto now = std::chrono::steady_clock::now();
        std::lock_guard lock(conns_mu);
        auto it = conns.find(id);
        if (it == conns.end()) return;
        it->second.deadline = seconds > 0 ? now + std::chrono::seconds(seconds) : decltype(now)::max();
        if (!idle) {
            it->second.idle_since = decltype(now)::max();
            it->second.had_request = true;
        } else if (it->second.idle_since == decltype(now)::max()) {
            it->second.idle_since = now;
        }
    }
    void shut_locked(Conn& c) {
        if (!c.shut) ::shutdown(c.fd, SHUT_RDWR);
        c.shut = true;
    }
    void reap() {
        const auto now = std::chrono::steady_clock::now();
        std::lock_guard lock(conns_mu);
        for (auto& [id, c] : conns)
            if (c.deadline < now) shut_locked(c);
    }
    bool evict_idle() {
        std::lock_guard lock(conns_mu);
        std::vector<Conn*> idle;  // waiting for a request; best to evict first
        for (auto& [id, c] : conns)
            if (!c.shut && c.idle_since != std::chrono::steady_clock::time_point::max()) idle.push_back(&c);
        std::sort(idle.begin(), idle.end(), [](const Conn* a, const Conn* b) {
            return a->had_request != b->had_request ? !a->had_request : a->idle_since < b->idle_since;
        });
        // A request already waiting in the socket (a client whose thread has not read it yet, while
        // an attacker reconnects as fast as it is closed) is spared while another can go.
        for (Conn* c : idle) {
            int pending = 0;
            if (::ioctl(c->fd, FIONREAD, &pending) == 0 && pending > 0) continue;
            shut_locked(*c);
            return true;
        }
        if (idle.empty()) return false;
        shut_locked(*idle.front());
        return true;
    }
    /// Draining: connections waiting for a request, with none pending in the socket, are closed.
    void shut_idle() {
        std::lock_guard lock(conns_mu);
        for (auto& [id, c] : conns) {
            if (c.shut || c.idle_since == std::chrono::steady_clock::time_point::max()) continue;
            int pending = 0;
            if (::ioctl(c.fd, FIONREAD, &pending) == 0 && pending > 0) continue;  // a request: answer it
            shut_locked(c);
        }
    }
    std::atomic<int> active{0};
    std::atomic<bool> draining{false};  // stop accepting, answer what is in flight with Connection: close
    std::atomic<bool> stopping{false};

    Impl(Router& r, HttpServerOptions o) : router(r), opt(std::move(o)) {}

    void log(const std::string& s) const {
        if (opt.log) opt.log(s);
    }

    bool origin_allowed(const std::string& origin) const {
        for (const auto& o : opt.cors_origins)
            if (o == origin) return true;
        return false;
    }
    bool same_origin(const HttpRequest& req) const {
        const auto origin = req.header("origin");
        const auto host = req.header("host");
        return !host.empty() && (origin == "http://" + host || origin == "https://" + host);
    }

    void add_cors(const HttpRequest& req, std::vector<std::pair<std::string, std::string>>& headers) const {
        const auto origin = req.header("origin");
        if (origin.empty() || !origin_allowed(origin)) return;
        headers.emplace_back("Access-Control-Allow-Origin", origin);
        headers.emplace_back("Vary", "Origin");
        headers.emplace_back("Access-Control-Expose-Headers", "Location, Retry-After");
    }

    bool authorized(const HttpRequest& req, bool events) const {
        if (opt.token.empty()) return true;
        const auto auth = req.header("authorization");
        if (auth.size() > 7 && lower(auth.substr(0, 7)) == "bearer " && constant_time_equal(auth.substr(7), opt.token))
            return true;
        if (events)  // browsers cannot set headers on WebSocket / EventSource requests
            if (auto it = req.query.find("access_token"); it != req.query.end())
                return constant_time_equal(it->second, opt.token);
        return false;
    }

    /// A file route's answer: the header, then the file's bytes in blocks (a stem can be hundreds
    /// of MB: never read whole into memory). A file cut short closes the connection.
    static bool write_file_response(tcp::socket& sock, const HttpRequest& req, bhttp::response<bhttp::string_body>& r,
                                    const HttpResponse::FileSlice& f) {
        r.content_length(static_cast<std::uint64_t>(f.length));
        std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(f.path.c_str(), "rb"), &std::fclose);
        if (!in || fseeko(in.get(), static_cast<off_t>(f.offset), SEEK_SET) != 0) {
            r.result(bhttp::status::internal_server_error);
            r.content_length(0);
        }
        beast::error_code ec;
        bhttp::response_serializer<bhttp::string_body> sr{r};
        bhttp::write_header(sock, sr, ec);
        if (ec || req.method == "HEAD" || !in) return !ec && in;
        std::vector<char> buf(1 << 18);
        for (std::int64_t left = f.length; left > 0;) {
            const auto want =
                static_cast<std::size_t>(std::min<std::int64_t>(left, static_cast<std::int64_t>(buf.size())));
            const auto got = std::fread(buf.data(), 1, want, in.get());
            if (got == 0) return false;  // the file shrank: the client sees a short body
            asio::write(sock, asio::buffer(buf.data(), got), ec);
            if (ec) return false;
            left -= static_cast<std::int64_t>(got);
        }
        return true;
    }

    bool write_response(tcp::socket& sock, const HttpRequest& req, HttpResponse res, bool keep_alive) {
        add_cors(req, res.headers);
        if (!req.request_id.empty()) res.headers.emplace_back("X-Request-Id", req.request_id);
        access_log(req, res.status, res.file ? static_cast<std::size_t>(res.file->length) : res.body.size());
        bhttp::response<bhttp::string_body> r{static_cast<bhttp::status>(res.status), 11};
        r.set(bhttp::field::server, kServerName);
        if (!res.body.empty() || res.status != 204) r.set(bhttp::field::content_type, res.content_type);
        bool cache_set = false;
        for (const auto& h : res.headers) cache_set = cache_set || lower(h.first) == "cache-control";
        if (!cache_set) r.set(bhttp::field::cache_control, "no-store");
        r.set("X-Content-Type-Options", "nosniff");
        for (const auto& [k, v] : res.headers) r.insert(k, v);
        r.keep_alive(keep_alive && !draining);
        if (res.file) return write_file_response(sock, req, r, *res.file);
        const auto n = res.body.size();
        if (req.method != "HEAD") r.body() = std::move(res.body);
        r.content_length(n);
        beast::error_code ec;
        bhttp::write(sock, r, ec);
        return !ec;
    }

    /// One JSON line per answered request (structured access log), through the log sink.
    void access_log(const HttpRequest& req, int status, std::size_t bytes) const {
        if (!opt.access_log || !opt.log) return;
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - req.received).count();
        nlohmann::json j = {{"request_id", req.request_id},
                            {"method", req.method},
                            {"path", req.path},
                            {"status", status},
                            {"bytes", bytes},
                            {"ms", std::round(ms * 10.0) / 10.0}};
        opt.log(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }

    void session(tcp::socket& sock, std::uint64_t id);
    void stream_events(tcp::socket& sock, bhttp::request<bhttp::empty_body>& head, const HttpRequest& req,
                       const std::string& kind, const std::string& id);
};

HttpServer::HttpServer(Router& router, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(router, std::move(options))) {}

HttpServer::~HttpServer() = default;

Result<int> HttpServer::listen() {
    boost::system::error_code ec;
    auto address =
        asio::ip::make_address(impl_->opt.bind_address == "localhost" ? "127.0.0.1" : impl_->opt.bind_address, ec);
    if (ec) return make_error(ErrorCode::kInvalidArgument, "bad bind address " + impl_->opt.bind_address);
    const tcp::endpoint ep(address, static_cast<unsigned short>(impl_->opt.port));
    auto& a = impl_->acceptor;
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(1024, ec);
    if (ec)
        return make_error(ErrorCode::kIoError, "cannot listen on " + impl_->opt.bind_address + ":" +
                                                   std::to_string(impl_->opt.port) + ": " + ec.message());
    return static_cast<int>(a.local_endpoint().port());
}

void HttpServer::run(std::stop_token stop, std::stop_token hard_stop) {
    auto& im = *impl_;
    while (!stop.stop_requested()) {
        pollfd p{im.acceptor.native_handle(), POLLIN, 0};
        const int ready = ::poll(&p, 1, 200);
        im.reap();
        if (ready <= 0) continue;
        tcp::socket sock(im.ioc);
        boost::system::error_code ec;
        im.acceptor.accept(sock, ec);
        if (ec) continue;
        if (im.active.load() >= im.opt.max_connections && !im.evict_idle()) {
            static const std::string busy =
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\nRetry-After: "
                "1\r\nConnection: close\r\nContent-Length: 105\r\n\r\n";
            static const std::string body =
                R"({"type":"urn:harmony:problem:too-many-connections","title":"Too many connections","status":503})";
            const std::string msg = busy.substr(0, busy.find("Content-Length:")) +
                                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
            asio::write(sock, asio::buffer(msg), ec);
            continue;
        }
        ++im.active;
        std::uint64_t id = 0;
        {
            std::lock_guard lock(im.conns_mu);
            id = ++im.next_conn;
            auto& c = im.conns[id];
            c.fd = sock.native_handle();
            c.idle_since = std::chrono::steady_clock::now();  // no request yet: may make room for the next
        }
        std::thread([&im, id, s = std::move(sock)]() mutable {
            try {
                im.session(s, id);
            } catch (const std::exception& e) {  // a connection's failure never ends the process
                im.log(std::string("connection closed after an internal error: ") + e.what());
            }
            {
                std::lock_guard lock(im.conns_mu);  // forgotten before the socket closes (fd reuse)
                im.conns.erase(id);
            }
            boost::system::error_code ignored;
            s.close(ignored);
            --im.active;
        }).detach();
    }
    boost::system::error_code ec;
    im.acceptor.close(ec);  // from here on a new connection is refused by the kernel
    im.draining = true;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(std::max(0, im.opt.drain_timeout_s));
    if (im.active.load() > 0)
        im.log("draining " + std::to_string(im.active.load()) + " connection(s) (up to " +
               std::to_string(im.opt.drain_timeout_s) + " s)");
    while (im.active.load() > 0 && std::chrono::steady_clock::now() < deadline && !hard_stop.stop_requested()) {
        im.shut_idle();
        im.reap();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (im.active.load() > 0) im.log(std::to_string(im.active.load()) + " connection(s) still open: closed");
    im.stopping = true;
    {
        std::lock_guard lock(im.conns_mu);
        for (auto& [id, c] : im.conns) im.shut_locked(c);
    }
    for (int i = 0; i < 250 && im.active.load() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

void HttpServer::Impl::session(tcp::socket& sock, std::uint64_t id) {
    beast::flat_buffer buf;
    beast::error_code ec;
    while (!stopping && !draining) {
        // Waiting for a request: the whole header must arrive within the idle timeout, however
        // slowly it trickles in; until it does the connection may be evicted for a newcomer.
        arm(id, opt.idle_timeout_s, true);
        bhttp::request_parser<bhttp::empty_body> hp;
        hp.header_limit(32 * 1024);
        // Checked below, per route. (Not boost::none: Beast 1.74 compares Content-Length > none as true.)
        hp.body_limit(std::numeric_limits<std::uint64_t>::max());
        bhttp::read_header(sock, buf, hp, ec);
        if (ec) {
            HttpRequest none;
            if (ec == bhttp::error::header_limit) {
                write_response(sock, none, problem(431, "headers-too-large", "Request headers too large", ""), false);
            } else if (ec.category() == beast::error_code(bhttp::error::bad_method).category() &&
                       ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
                // Bytes that are not HTTP (a bad method, target, version, header or chunk): say
                // so before closing, instead of hanging up without a word.
                write_response(sock, none,
                               problem(400, "malformed-request", "Bad request",
                                       "the request is not valid HTTP/1.1: " + ec.message()),
                               false);
            }
            break;
        }
        arm(id, opt.idle_timeout_s, false);  // a request in progress: answered, then read on
        auto& h = hp.get();
        HttpRequest req;
        req.request_id = request_id_for(std::string(h["X-Request-Id"]));
        req.method = std::string(h.method_string());
        split_target(std::string_view(h.target().data(), h.target().size()), req);
        for (const auto& f : h) req.headers[lower(std::string(f.name_string()))] = std::string(f.value());
        bool keep = h.keep_alive();
        const auto origin = req.header("origin");
        // DNS rebinding: a foreign page whose name resolves to this loopback server sends its own
        // name as Host (and Origin, which then looks same-origin): only the allowed names pass.
        if (!host_allowed(req.header("host"), opt.allowed_hosts, opt.bind_address)) {
            write_response(sock, req,
                           problem(421, "host-not-allowed", "Misdirected request",
                                   "this server does not answer for that Host (see --allowed-host)"),
                           false);
            break;
        }
        // Paths, query parameters and file names end up in JSON (problems, job records): text that
        // is not UTF-8 is refused here, before anything else reads it.
        bool utf8 = core::is_valid_utf8(req.path);
        for (const auto& [k, v] : req.query) utf8 = utf8 && core::is_valid_utf8(k) && core::is_valid_utf8(v);
        if (!utf8) {
            write_response(sock, req,
                           problem(400, "invalid-request-target", "Bad request",
                                   "the request target is not valid UTF-8 once percent-decoded"),
                           false);
            break;
        }

        // CORS: only the UI's origins (and same-origin pages) may call the API from a browser.
        if (!origin.empty() && !origin_allowed(origin) && !same_origin(req)) {
            write_response(sock, req,
                           problem(403, "origin-not-allowed", "Origin not allowed",
                                   "this origin may not call the API (see --cors-origin)", req.path),
                           false);
            break;
        }
        if (req.method == "OPTIONS") {
            HttpResponse res;
            res.status = 204;
            res.content_type.clear();
            if (!origin.empty()) {
                res.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
                res.headers.emplace_back("Access-Control-Allow-Headers",
                                         "Authorization, Content-Type, Content-Disposition, Idempotency-Key");
                res.headers.emplace_back("Access-Control-Max-Age", "600");
            }
            res.headers.emplace_back("Allow", "GET, POST, DELETE, OPTIONS");
            if (!write_response(sock, req, std::move(res), keep && hp.is_done()) || !keep || !hp.is_done()) break;
            continue;
        }
        const auto events = Router::events_target(req.method, req.path);
        // The app's files are public (the page asks for the token before calling the API).
        const bool app_file = (req.method == "GET" || req.method == "HEAD") && find_app_asset(req.path).has_value();
        if (req.path != "/health" && req.path != "/ready" && !app_file && !authorized(req, events.has_value())) {
            auto res = problem(401, "unauthorized", "Unauthorized", "a bearer token is required", req.path);
            res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"harmony\"");
            write_response(sock, req, std::move(res), false);
            break;
        }
        if (events) {
            arm(id, 0, false);  // a progress stream lives as long as its job
            stream_events(sock, h, req, events->first, events->second);
            return;  // the stream owned the connection
        }

        const auto ct = lower(req.header("content-type"));
        const bool upload = Router::is_upload_route(req.method, req.path) && ct.rfind("application/json", 0) != 0;
        const std::int64_t limit = upload ? opt.max_upload_bytes : opt.max_request_bytes;
        if (const auto cl = hp.content_length(); cl && static_cast<std::int64_t>(*cl) > limit) {
            write_response(sock, req,
                           problem(413, "content-too-large", "Content too large",
                                   "the body exceeds the limit of " + std::to_string(limit) + " bytes", req.path),
                           false);
            break;
        }
        if (lower(req.header("expect")) == "100-continue") {
            static const std::string cont = "HTTP/1.1 100 Continue\r\n\r\n";
            asio::write(sock, asio::buffer(cont), ec);
            if (ec) break;
        }
        bool too_large = false;
        if (upload) {
            const auto path = (std::filesystem::path(router.uploads_dir()) / new_id()).string();
            bhttp::request_parser<bhttp::file_body> fp{std::move(hp)};
            fp.body_limit(static_cast<std::uint64_t>(limit));
            fp.get().body().open(path.c_str(), beast::file_mode::write, ec);
            if (ec) {
                write_response(sock, req, problem(500, "io_error", "Internal error", "cannot store the upload"), false);
                break;
            }
            while (!ec && !fp.is_done()) {  // an upload may take long: the deadline is per read
                arm(id, opt.idle_timeout_s, false);
                bhttp::read_some(sock, buf, fp, ec);
            }
            fp.get().body().close();
            req.body_file = path;
            if (ec) {
                std::error_code fe;
                std::filesystem::remove(path, fe);
                req.body_file.clear();
                if (ec != bhttp::error::body_limit) {
                    log("upload from a client failed: " + ec.message());
                    break;
                }
                too_large = true;
            }
        } else {
            bhttp::request_parser<bhttp::string_body> sp{std::move(hp)};
            sp.body_limit(static_cast<std::uint64_t>(limit));
            bhttp::read(sock, buf, sp, ec);
            if (ec && ec != bhttp::error::body_limit) break;
            too_large = static_cast<bool>(ec);
            req.body = std::move(sp.get().body());
        }
        if (too_large) {
            write_response(sock, req,
                           problem(413, "content-too-large", "Content too large",
                                   "the body exceeds the limit of " + std::to_string(limit) + " bytes", req.path),
                           false);
            break;
        }
        HttpResponse res;
        try {
            res = router.handle(req);
        } catch (const std::exception& e) {  // a bug must cost one request, never the server
            log(std::string("internal error answering ") + req.method + " " + core::to_valid_utf8(req.path) + ": " +
                e.what());
            res = problem(500, "internal", "Internal error", "the request could not be processed");
            keep = false;
        }
        if (!write_response(sock, req, std::move(res), keep) || !keep) break;
    }
    // Lingering close: after an early answer (413, 401, ...) the client may still be sending its
    // body; reading a little of it lets the client see the answer instead of a reset.
    beast::error_code ignored;
    sock.shutdown(tcp::socket::shutdown_send, ignored);
    arm(id, 2, false);
    char sink[65536];
    std::size_t drained = 0;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (drained < (64u << 20) && std::chrono::steady_clock::now() < until) {
        const auto n = sock.read_some(asio::buffer(sink), ignored);
        if (ignored || n == 0) break;
        drained += n;
    }
}

void HttpServer::Impl::stream_events(tcp::socket& sock, bhttp::request<bhttp::empty_body>& head, const HttpRequest& req,
                                     const std::string& kind, const std::string& id) {
    auto snapshot = [&] { return kind == "job" ? router.job_event(id) : router.batch_event(id); };
    auto first = snapshot();
    if (!first) {
        write_response(sock, req,
                       problem(404, kind + "-not-found", kind == "job" ? "Unknown job" : "Unknown batch",
                               "no " + kind + " " + id, req.path),
                       false);
        return;
    }
    const auto period = std::chrono::milliseconds(opt.event_interval_ms);
    beast::error_code ec;
    if (websocket::is_upgrade(head)) {
        websocket::stream<tcp::socket&> ws(sock);
        ws.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& r) { r.set(bhttp::field::server, kServerName); }));
        ws.accept(head, ec);
        if (ec) return;
        ws.text(true);
        std::string last;
        auto ev = first;
        for (;;) {
            if (ev->first != last) {
                ws.write(asio::buffer(ev->first), ec);
                if (ec) return;
                last = ev->first;
            }
            if (ev->second || stopping || draining) break;
            std::this_thread::sleep_for(period);
            ev = snapshot();
            if (!ev) break;
        }
        ws.close(websocket::close_code::normal, ec);
        return;
    }
    // Server-Sent Events (text/event-stream), one `progress` event per change, then `end`.
    std::string hdr =
        "HTTP/1.1 200 OK\r\nServer: harmony\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
        "X-Accel-Buffering: no\r\nConnection: close\r\n";
    std::vector<std::pair<std::string, std::string>> cors;
    add_cors(req, cors);
    for (const auto& [k, v] : cors) hdr += k + ": " + v + "\r\n";
    hdr += "\r\nretry: 1000\n\n";
    asio::write(sock, asio::buffer(hdr), ec);
    if (ec) return;
    std::string last;
    auto ev = first;
    long seq = 0;
    auto last_write = std::chrono::steady_clock::now();
    for (;;) {
        std::string frame;
        if (ev->first != last) {
            frame = "id: " + std::to_string(++seq) + "\nevent: " + (ev->second ? "end" : "progress") +
                    "\ndata: " + ev->first + "\n\n";
            last = ev->first;
        } else if (ev->second) {
            frame = "id: " + std::to_string(++seq) + "\nevent: end\ndata: " + ev->first + "\n\n";
        } else if (std::chrono::steady_clock::now() - last_write > std::chrono::seconds(15)) {
            frame = ": keepalive\n\n";
        }
        if (!frame.empty()) {
            asio::write(sock, asio::buffer(frame), ec);
            if (ec) return;
            last_write = std::chrono::steady_clock::now();
        }
        if (ev->second || stopping || draining) break;
        std::this_thread::sleep_for(period);
        ev = snapshot();
        if (!ev) break;
    }
    sock.shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace harmony::server::http
