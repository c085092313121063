// Harmony service — the HTTP edge's routing, independent of the socket library: a parsed request
// in, a response out. JSON lives here and nowhere deeper. The socket layer (http_server.cpp)
// handles connections, limits, authentication, CORS and the progress streams.
#pragma once

#include <cstdint>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "library/library.hpp"
#include "server/service.hpp"

namespace harmony::server::http {

struct HttpRequest {
    std::string method;
    std::string path;                               // percent-decoded, without the query
    std::multimap<std::string, std::string> query;  // percent-decoded
    std::map<std::string, std::string> headers;     // lower-case names
    std::string body;                               // small bodies
    std::string body_file;                          // uploads: the body streamed to a file (owned)
    std::string request_id;                         // echoed as X-Request-Id and in the access log
    std::chrono::steady_clock::time_point received = std::chrono::steady_clock::now();
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    /// A file route's body: this part of a file, streamed by the socket layer (never held in
    /// memory; `body` stays empty).
    struct FileSlice {
        std::string path;
        std::int64_t offset = 0;
        std::int64_t length = 0;
    };
    std::optional<FileSlice> file;
};

struct RouterOptions {
    std::string file_root;                    // non-empty: server-side file reads allowed below this directory
    int max_batch_jobs = 256;                 // tracks in one POST /v1/batches (413 beyond)
    std::vector<std::string> callback_hosts;  // receivers a callback_url may name (empty: callbacks off)
    std::string library_path;                 // the CLI's track library, served read-only at /v1/library (empty: none)
};

/// A job as the API shows it (GET /v1/jobs/{id}, listings, completion callbacks).
nlohmann::json job_resource(const JobRecord& j);

/// One route of the API, as served and as listed in schemas/openapi.json.
struct RouteInfo {
    const char* method;
    const char* pattern;  // OpenAPI path template, e.g. "/v1/jobs/{id}"
};
const std::vector<RouteInfo>& routes();

/// RFC 9457 problem JSON.
HttpResponse problem(int status, const std::string& slug, const std::string& title, const std::string& detail,
                     const std::string& instance = {});
int http_status_for(ErrorCode code);

std::string openapi_text();

class Router {
public:
    Router(Service& service, RouterOptions options)
        : svc_(service), opt_(std::move(options)), lib_(std::make_shared<LibraryHandle>()) {}
    HttpResponse handle(HttpRequest& req);

    /// For the progress streams: the current event (JSON text) and whether it is the last one;
    /// nullopt when the job or batch is unknown.
    std::optional<std::pair<std::string, bool>> job_event(const std::string& id);
    std::optional<std::pair<std::string, bool>> batch_event(const std::string& id);

    /// Which streamed route a request is for: {"job"|"batch", id}, or nullopt.
    static std::optional<std::pair<std::string, std::string>> events_target(const std::string& method,
                                                                            const std::string& path);
    /// True for the routes whose body is an upload (streamed to disk, upload size limit).
    static bool is_upload_route(const std::string& method, const std::string& path);
    std::string uploads_dir() const { return svc_.uploads_dir(); }

private:
    HttpResponse post_job(HttpRequest& req);
    HttpResponse post_batch(HttpRequest& req);
    HttpResponse get_job(const std::string& id);
    HttpResponse list_jobs(const HttpRequest& req);
    HttpResponse get_result(const std::string& id);
    HttpResponse get_export(const std::string& id, const std::string& format, const HttpRequest& req);
    HttpResponse post_exports(const std::string& format, const HttpRequest& req);
    HttpResponse get_stem(const std::string& id, const std::string& name, const HttpRequest& req);
    HttpResponse delete_job(const std::string& id);
    HttpResponse get_batch(const std::string& id);
    HttpResponse health();
    HttpResponse ready();
    HttpResponse get_library(const HttpRequest& req);
    HttpResponse get_library_track(const std::string& content_hash);
    /// The library, opened on first use (only when its file exists: nothing is created).
    Result<library::Library*> open_library();

    struct LibraryHandle {
        std::mutex mu;
        std::unique_ptr<library::Library> lib;
    };
    Service& svc_;
    RouterOptions opt_;
    std::shared_ptr<LibraryHandle> lib_;
};

}  // namespace harmony::server::http
