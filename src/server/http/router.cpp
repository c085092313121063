#include "server/http/router.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/utf8.hpp"
#include "harmony/export.hpp"
#include "server/http/app_assets.hpp"
#include "server/http/callbacks.hpp"
#include "server/http/multipart.hpp"
#include "server/http/request_options.hpp"

namespace harmony::server::http {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<RouteInfo>& routes() {
    static const std::vector<RouteInfo> r = {
        {"GET", "/health"},
        {"GET", "/ready"},
        {"GET", "/openapi.json"},
        {"GET", "/metrics"},
        {"GET", "/v1/jobs"},
        {"POST", "/v1/jobs"},
        {"GET", "/v1/jobs/{id}"},
        {"DELETE", "/v1/jobs/{id}"},
        {"GET", "/v1/jobs/{id}/result"},
        {"GET", "/v1/jobs/{id}/export/{format}"},
        {"GET", "/v1/jobs/{id}/stems/{name}"},
        {"GET", "/v1/jobs/{id}/events"},
        {"POST", "/v1/exports/{format}"},
        {"POST", "/v1/batches"},
        {"GET", "/v1/batches/{id}"},
        {"GET", "/v1/batches/{id}/events"},
        {"GET", "/v1/library"},
        {"GET", "/v1/library/tracks/{content_hash}"},
    };
    return r;
}

namespace {

std::vector<std::string> split_path(const std::string& path) {
    std::vector<std::string> out;
    std::string cur;
    for (std::size_t i = 1; i <= path.size(); ++i) {
        if (i == path.size() || path[i] == '/') {
            out.push_back(cur);
            cur.clear();
        } else {
            cur += path[i];
        }
    }
    return out;
}

/// Matches a path against a route pattern; fills the {placeholders} in order.
bool match(const std::string& pattern, const std::string& path, std::vector<std::string>& args) {
    if (path.empty() || path.front() != '/') return false;  // ".v1/jobs" is not "/v1/jobs"
    const auto p = split_path(pattern), s = split_path(path);
    if (p.size() != s.size()) return false;
    std::vector<std::string> a;
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (!p[i].empty() && p[i].front() == '{') {
            if (s[i].empty()) return false;
            a.push_back(s[i]);
        } else if (p[i] != s[i]) {
            return false;
        }
    }
    args = std::move(a);
    return true;
}

std::string rfc3339(std::int64_t ms) {
    if (ms <= 0) return {};
    const std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[48];
    std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
    return out;
}

/// RFC 3339 date-time ("2026-12-03T10:42:37Z", fraction and offset optional) to ms since epoch.
std::optional<std::int64_t> parse_rfc3339(const std::string& s) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, used = 0;
    if (std::sscanf(s.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6 ||
        used != 19)
        return std::nullopt;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970) return std::nullopt;
    std::size_t i = 19;
    std::int64_t frac_ms = 0;
    if (i < s.size() && s[i] == '.') {
        std::int64_t scale = 100;
        std::size_t digits = 0;
        for (++i; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i, ++digits) {
            frac_ms += (s[i] - '0') * scale;
            scale /= 10;
        }
        if (digits == 0) return std::nullopt;
    }
    std::int64_t offset_s = 0;
    if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
        ++i;
    } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int oh = 0, om = 0;
        if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2 || oh > 23 || om > 59) return std::nullopt;
        offset_s = (s[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
        i += 6;
    } else {
        return std::nullopt;
    }
    if (i != s.size()) return std::nullopt;
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    const std::int64_t t = timegm(&tm);
    return (t - offset_s) * 1000 + frac_ms;
}

std::string pct_encode(const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

/// The page cursor is opaque to clients: "c" and the hexadecimal insertion sequence number.
std::string encode_cursor(std::int64_t seq) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "c%llx", static_cast<unsigned long long>(seq));
    return buf;
}

std::optional<std::int64_t> decode_cursor(const std::string& c) {
    if (c.size() < 2 || c.size() > 17 || c[0] != 'c') return std::nullopt;
    std::int64_t v = 0;
    for (std::size_t i = 1; i < c.size(); ++i) {
        const char ch = c[i];
        int d;
        if (ch >= '0' && ch <= '9')
            d = ch - '0';
        else if (ch >= 'a' && ch <= 'f')
            d = ch - 'a' + 10;
        else
            return std::nullopt;
        if (v > (std::numeric_limits<std::int64_t>::max() >> 4)) return std::nullopt;
        v = v * 16 + d;
    }
    if (v <= 0) return std::nullopt;
    return v;
}

json time_or_null(std::int64_t ms) {
    return ms > 0 ? json(rfc3339(ms)) : json(nullptr);
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string media_type(const std::string& content_type) {
    auto mt = lower(content_type.substr(0, content_type.find(';')));
    while (!mt.empty() && mt.back() == ' ') mt.pop_back();
    return mt;
}

bool is_audio_media_type(const std::string& mt) {
    return mt.rfind("audio/", 0) == 0 || mt.rfind("video/", 0) == 0 || mt == "application/octet-stream" ||
           mt == "application/ogg";
}

json error_problem(const JobRecord& j) {
    if (j.state != JobState::kFailed) return nullptr;
    const auto code = j.error_code.empty() ? std::string("internal") : j.error_code;
    return {{"type", "urn:harmony:problem:" + code},
            {"title", "Analysis failed"},
            {"status", 422},
            {"detail", j.error_message},
            {"code", code}};
}

std::optional<double> eta_s(const JobRecord& j) {
    if (j.state != JobState::kRunning || j.started_ms <= 0 || j.progress < 0.02 || j.progress >= 1.0)
        return std::nullopt;
    const double elapsed = static_cast<double>(now_ms() - j.started_ms) / 1000.0;
    return elapsed * (1.0 - j.progress) / j.progress;
}

json job_json(const JobRecord& j) {
    const auto req = request_from_json(j.request_json);
    const std::string self = "/v1/jobs/" + j.id;
    json links = {{"self", self}, {"events", self + "/events"}};
    if (j.state == JobState::kSucceeded) {
        links["result"] = self + "/result";
        links["export"] = self + "/export/{format}";
        if (is_stems_key(j.result_key)) links["stems"] = self + "/stems/{name}";
    }
    const auto eta = eta_s(j);
    return {{"id", j.id},
            {"status", job_state_name(j.state)},
            {"stage", j.stage},
            {"progress", j.progress},
            {"eta_s", eta ? json(*eta) : json(nullptr)},
            {"attempts", j.attempts},
            {"max_attempts", j.max_attempts},
            {"cached", j.cached},
            {"refresh", is_refresh_key(j.result_key)},
            {"stems", is_stems_key(j.result_key)},
            {"batch_id", j.batch_id.empty() ? json(nullptr) : json(j.batch_id)},
            {"source", {{"name", j.source_name}, {"content_hash", j.content_hash}, {"bytes", j.audio_bytes}}},
            {"request", {{"only", req.only}, {"params", req.params}}},
            {"created_at", time_or_null(j.created_ms)},
            {"started_at", time_or_null(j.started_ms)},
            {"finished_at", time_or_null(j.finished_ms)},
            {"error", error_problem(j)},
            {"links", links}};
}

json batch_json(const std::string& id, const std::vector<JobRecord>& jobs) {
    json counts = {{"queued", 0}, {"running", 0}, {"succeeded", 0}, {"failed", 0}, {"canceled", 0}};
    double progress = 0.0;
    json list = json::array();
    for (const auto& j : jobs) {
        counts[std::string(job_state_name(j.state))] = counts[std::string(job_state_name(j.state))].get<int>() + 1;
        progress += is_final(j.state) ? 1.0 : j.progress;
        list.push_back({{"id", j.id},
                        {"status", job_state_name(j.state)},
                        {"stage", j.stage},
                        {"progress", j.progress},
                        {"source", {{"name", j.source_name}}},
                        {"links", {{"self", "/v1/jobs/" + j.id}}}});
    }
    const auto n = static_cast<int>(jobs.size());
    std::string status;
    if (counts["succeeded"].get<int>() == n)
        status = "succeeded";
    else if (counts["queued"].get<int>() == n)
        status = "queued";
    else if (counts["queued"].get<int>() + counts["running"].get<int>() > 0)
        status = "running";
    else if (counts["canceled"].get<int>() == n)
        status = "canceled";
    else
        status = "failed";  // all finished, at least one not successfully
    // ETA: the slowest running job's estimate is a fair lower bound; queued work is unknown.
    json eta = nullptr;
    for (const auto& j : jobs)
        if (auto e = eta_s(j); e && (eta.is_null() || *e > eta.get<double>())) eta = *e;
    return {{"id", id},
            {"status", status},
            {"progress", n > 0 ? progress / n : 1.0},
            {"eta_s", eta},
            {"counts", counts},
            {"jobs", list},
            {"links", {{"self", "/v1/batches/" + id}, {"events", "/v1/batches/" + id + "/events"}}}};
}

HttpResponse json_response(int status, const json& body) {
    HttpResponse r;
    r.status = status;
    r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    return r;
}

HttpResponse from_error(const Error& e) {
    const int status = http_status_for(e.code);
    return problem(status, std::string(error_code_name(e.code)),
                   status >= 500 ? "Internal error" : "The request cannot be processed", e.message);
}

}  // namespace

/// Options of an analysis: {"only":[...]|"a,b", "params":{"a.b":value}} from JSON.
Result<AnalysisRequest> options_from_json(const json& j) {
    AnalysisRequest r;
    if (!j.is_object()) return make_error(ErrorCode::kInvalidArgument, "options must be a JSON object");
    if (j.contains("only")) {
        const auto& o = j["only"];
        if (o.is_string()) {
            std::string cur;
            for (char c : o.get<std::string>() + ",")
                if (c == ',') {
                    if (!cur.empty()) r.only.push_back(cur);
                    cur.clear();
                } else if (c != ' ') {
                    cur += c;
                }
        } else if (o.is_array()) {
            for (const auto& v : o) {
                if (!v.is_string()) return make_error(ErrorCode::kInvalidArgument, "'only' must list analyzer ids");
                r.only.push_back(v.get<std::string>());
            }
        } else {
            return make_error(ErrorCode::kInvalidArgument, "'only' must be an array of analyzer ids");
        }
    }
    if (j.contains("params")) {
        if (!j["params"].is_object()) return make_error(ErrorCode::kInvalidArgument, "'params' must be an object");
        for (auto it = j["params"].begin(); it != j["params"].end(); ++it)
            r.params[it.key()] = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
        // Parameters that name files on the server (where stems are written, which weights are
        // read) are the operator's, never a client's.
        for (const char* k : {"stems.dir", "stems.model"})
            if (r.params.count(k) != 0)
                return make_error(
                    ErrorCode::kInvalidArgument,
                    std::string("'") + k + "' names a path on the server and cannot be set through the API");
    }
    for (auto it = j.begin(); it != j.end(); ++it)
        if (it.key() != "only" && it.key() != "params" && it.key() != "source" && it.key() != "callback_url" &&
            it.key() != "refresh" && it.key() != "stems")
            return make_error(ErrorCode::kInvalidArgument, "unknown option '" + it.key() + "'");
    return r;
}

/// Options from the query string: only=tempo,key and param=tempo.min_bpm=85 (repeatable).
Result<AnalysisRequest> options_from_query(const std::multimap<std::string, std::string>& q) {
    json j = json::object();
    for (const auto& [k, v] : q) {
        if (k == "only") {
            j["only"] = v;
        } else if (k == "param") {
            const auto eq = v.find('=');
            if (eq == std::string::npos || eq == 0)
                return make_error(ErrorCode::kInvalidArgument, "param must be analyzer.name=value");
            j["params"][v.substr(0, eq)] = v.substr(eq + 1);
        } else if (k != "filename" && k != "access_token" && k != "callback_url" && k != "refresh" && k != "stems") {
            return make_error(ErrorCode::kInvalidArgument, "unknown query parameter '" + k + "'");
        }
    }
    return options_from_json(j);
}

json job_resource(const JobRecord& j) {
    return job_json(j);
}

namespace {

/// The callback_url of a request (JSON options or the query string), checked against the
/// allowed hosts; empty when none was given.
Result<std::string> callback_url_of(const json* options, const std::multimap<std::string, std::string>* query,
                                    const std::vector<std::string>& hosts) {
    std::string url;
    if (options != nullptr && options->is_object() && options->contains("callback_url")) {
        if (!(*options)["callback_url"].is_string())
            return make_error(ErrorCode::kInvalidArgument, "callback_url must be a string");
        url = (*options)["callback_url"].get<std::string>();
        if (url.empty()) return make_error(ErrorCode::kInvalidArgument, "callback_url: empty");
    }
    if (query != nullptr)
        if (auto it = query->find("callback_url"); it != query->end()) {
            url = it->second;
            if (url.empty()) return make_error(ErrorCode::kInvalidArgument, "callback_url: empty");
        }
    if (url.empty()) return url;
    if (hosts.empty())
        return make_error(ErrorCode::kInvalidArgument,
                          "completion callbacks are off on this server (start it with --callback-host)");
    auto u = parse_callback_url(url);
    if (!u) return u.error();
    if (!callback_host_allowed(*u, hosts))
        return make_error(ErrorCode::kInvalidArgument, "callback_url: host " + u->host + ":" + std::to_string(u->port) +
                                                           " is not an allowed receiver (--callback-host)");
    return url;
}

/// A boolean option: "refresh" (analyse again even when the result store holds this analysis),
/// "stems" (separate stems and keep their audio with the job). JSON: a boolean; query: 1/true/yes
/// or 0/false/no.
Result<bool> flag_from_json(const json& j, const std::string& name) {
    if (!j.is_object() || !j.contains(name)) return false;
    if (!j[name].is_boolean()) return make_error(ErrorCode::kInvalidArgument, "'" + name + "' must be true or false");
    return j[name].get<bool>();
}

Result<bool> flag_from_query(const std::multimap<std::string, std::string>& q, const std::string& name) {
    auto it = q.find(name);
    if (it == q.end()) return false;
    const auto v = it->second;
    if (v == "1" || v == "true" || v == "yes" || v.empty()) return true;
    if (v == "0" || v == "false" || v == "no") return false;
    return make_error(ErrorCode::kInvalidArgument, name + " must be 1/true/yes or 0/false/no, not '" + v + "'");
}

Result<bool> refresh_from_json(const json& j) {
    return flag_from_json(j, "refresh");
}
Result<bool> refresh_from_query(const std::multimap<std::string, std::string>& q) {
    return flag_from_query(q, "refresh");
}

std::string filename_from_disposition(const std::string& cd) {
    const auto p = lower(cd).find("filename=");
    if (p == std::string::npos) return {};
    std::string v = cd.substr(p + 9);
    if (!v.empty() && v.front() == '"') {
        v = v.substr(1);
        v = v.substr(0, v.find('"'));
    } else {
        v = v.substr(0, v.find(';'));
    }
    return v;
}

/// A safe display name for an upload: the base name, printable, at most 255 bytes.
std::string clean_name(const std::string& name) {
    std::string base = fs::path(name).filename().string();
    std::string out;
    for (unsigned char c : base)
        if (c >= 0x20 && c != 0x7f) out += static_cast<char>(c);
    out = core::to_valid_utf8(out);  // stored, listed and written as JSON: never invalid UTF-8
    if (out.size() > 255) {          // at most 255 bytes, cut before a character's first byte
        size_t cut = 255;
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80) --cut;
        out.resize(cut);
    }
    return out.empty() ? std::string("upload") : out;
}

void remove_quietly(const std::string& p) {
    std::error_code ec;
    if (!p.empty()) fs::remove(p, ec);
}

}  // namespace

int http_status_for(ErrorCode code) {
    switch (code) {
        case ErrorCode::kInvalidArgument:
            return 400;
        case ErrorCode::kFileNotFound:
            return 404;
        case ErrorCode::kPermissionDenied:
            return 403;
        case ErrorCode::kNotAFile:
        case ErrorCode::kEmptyFile:
        case ErrorCode::kUnsupportedFormat:
        case ErrorCode::kNoAudioStream:
        case ErrorCode::kNoAudioData:
        case ErrorCode::kDecodeFailed:
        case ErrorCode::kLimitExceeded:
            return 422;
        case ErrorCode::kCancelled:
            return 409;
        case ErrorCode::kSchemaViolation:
        case ErrorCode::kIoError:
        case ErrorCode::kModelInvalid:
        case ErrorCode::kInternal:
            return 500;
    }
    return 500;
}

HttpResponse problem(int status, const std::string& slug, const std::string& title, const std::string& detail,
                     const std::string& instance) {
    json p = {{"type", "urn:harmony:problem:" + slug}, {"title", title}, {"status", status}, {"detail", detail}};
    if (!instance.empty()) p["instance"] = instance;
    HttpResponse r;
    r.status = status;
    r.content_type = "application/problem+json";
    r.body = p.dump(-1, ' ', false, json::error_handler_t::replace);
    return r;
}

std::optional<std::pair<std::string, std::string>> Router::events_target(const std::string& method,
                                                                         const std::string& path) {
    if (method != "GET") return std::nullopt;
    std::vector<std::string> a;
    if (match("/v1/jobs/{id}/events", path, a)) return std::make_pair(std::string("job"), a[0]);
    if (match("/v1/batches/{id}/events", path, a)) return std::make_pair(std::string("batch"), a[0]);
    return std::nullopt;
}

bool Router::is_upload_route(const std::string& method, const std::string& path) {
    return method == "POST" && (path == "/v1/jobs" || path == "/v1/batches");
}

HttpResponse Router::handle(HttpRequest& req) {
    struct Cleanup {
        std::string& f;
        ~Cleanup() { remove_quietly(f); }
    } cleanup{req.body_file};  // an upload not taken over by a job is removed

    // The web app's files (same origin as the API; public: they hold no data).
    if (req.method == "GET" || req.method == "HEAD")
        if (auto asset = find_app_asset(req.path)) {
            HttpResponse res;
            res.content_type = asset->content_type;
            res.body = std::string(asset->data);
            res.headers.emplace_back("Cache-Control", asset->cache_control);
            if (asset->html) {
                res.headers.emplace_back("Content-Security-Policy", std::string(app_content_security_policy()));
                res.headers.emplace_back("X-Frame-Options", "DENY");
                res.headers.emplace_back("Referrer-Policy", "no-referrer");
            }
            return res;
        }

    std::vector<std::string> a;
    bool path_known = false;
    std::string allow;
    for (const auto& r : routes()) {
        if (!match(r.pattern, req.path, a)) continue;
        path_known = true;
        allow += (allow.empty() ? "" : ", ") + std::string(r.method);
        if (req.method != r.method && !(req.method == "HEAD" && std::string(r.method) == "GET")) continue;
        const std::string p = r.pattern;
        if (p == "/health") return health();
        if (p == "/ready") return ready();
        if (p == "/metrics") {
            HttpResponse m;
            m.content_type = "text/plain; version=0.0.4; charset=utf-8";
            m.body = svc_.metrics_text();
            return m;
        }
        if (p == "/openapi.json") {
            HttpResponse res;
            res.body = openapi_text();
            return res;
        }
        if (p == "/v1/jobs") return req.method == "POST" ? post_job(req) : list_jobs(req);
        if (p == "/v1/jobs/{id}") return req.method == "DELETE" ? delete_job(a[0]) : get_job(a[0]);
        if (p == "/v1/jobs/{id}/result") return get_result(a[0]);
        if (p == "/v1/jobs/{id}/export/{format}") return get_export(a[0], a[1], req);
        if (p == "/v1/jobs/{id}/stems/{name}") return get_stem(a[0], a[1], req);
        if (p == "/v1/exports/{format}") return post_exports(a[0], req);
        if (p == "/v1/batches") return post_batch(req);
        if (p == "/v1/batches/{id}") return get_batch(a[0]);
        if (p == "/v1/library") return get_library(req);
        if (p == "/v1/library/tracks/{content_hash}") return get_library_track(a[0]);
        // The event streams are served by the socket layer; reaching here means a plain request
        // without a stream: describe it.
        return problem(406, "not-acceptable", "Not a stream request",
                       "use Accept: text/event-stream or a WebSocket upgrade", req.path);
    }
    if (path_known) {
        auto res =
            problem(405, "method-not-allowed", "Method not allowed", req.method + " is not allowed here", req.path);
        res.headers.emplace_back("Allow", allow);
        return res;
    }
    return problem(404, "not-found", "Not found", "no such resource", req.path);
}

HttpResponse Router::health() {
    json j = {{"status", "ok"}, {"store", std::string(svc_.store_kind())}};
    if (auto c = svc_.counts()) {
        j["jobs"] = {{"queued", c->queued},
                     {"running", c->running},
                     {"succeeded", c->succeeded},
                     {"failed", c->failed},
                     {"canceled", c->canceled}};
        j["analyses"] = c->analyses;
    }
    return json_response(200, j);
}

HttpResponse Router::ready() {
    if (const auto why = svc_.unready_reason(); !why.empty()) return problem(503, "not-ready", "Not ready", why);
    return json_response(200, {{"status", "ready"}});
}

/// Reads a server-side path, confined to the configured root (symlinks resolved first).
static Result<std::string> confined_path(const std::string& root, const std::string& requested) {
    if (root.empty())
        return make_error(ErrorCode::kPermissionDenied,
                          "server-side file reads are disabled (start the server with --file-root DIR)");
    if (requested.empty() || requested.find('\0') != std::string::npos)
        return make_error(ErrorCode::kInvalidArgument, "source.path is empty");
    std::error_code ec;
    const fs::path r = fs::canonical(root, ec);
    if (ec) return make_error(ErrorCode::kInternal, "the file root is not accessible");
    fs::path p = fs::path(requested);
    if (p.is_relative()) p = r / p;
    const fs::path c = fs::weakly_canonical(p, ec);
    if (ec) return make_error(ErrorCode::kFileNotFound, "no such file: " + requested);
    const auto rel = c.lexically_relative(r);
    if (rel.empty() || *rel.begin() == ".." || rel.is_absolute())
        return make_error(ErrorCode::kPermissionDenied, "source.path is outside the file root");
    if (!fs::exists(c, ec)) return make_error(ErrorCode::kFileNotFound, "no such file: " + requested);
    if (!fs::is_regular_file(c, ec)) return make_error(ErrorCode::kNotAFile, "not a regular file: " + requested);
    return c.string();
}

HttpResponse Router::post_job(HttpRequest& req) {
    const auto mt = media_type(req.header("content-type"));
    Submission sub;
    if (mt == "application/json") {
        const auto j = json::parse(req.body, nullptr, false);
        if (j.is_discarded() || !j.is_object())
            return problem(400, "invalid-json", "Invalid JSON", "the body is not a JSON object", req.path);
        if (!j.contains("source") || !j["source"].is_object() || !j["source"].contains("path") ||
            !j["source"]["path"].is_string())
            return problem(400, "invalid_argument", "Invalid request",
                           "a JSON body needs source.path (uploads go as audio/* or multipart/form-data)", req.path);
        auto opts = options_from_json(j);
        if (!opts) return from_error(opts.error());
        auto cb = callback_url_of(&j, nullptr, opt_.callback_hosts);
        if (!cb) return from_error(cb.error());
        sub.callback_url = *cb;
        auto refresh = refresh_from_json(j);
        if (!refresh) return from_error(refresh.error());
        sub.refresh = *refresh;
        auto stems = flag_from_json(j, "stems");
        if (!stems) return from_error(stems.error());
        sub.stems = *stems;
        auto path = confined_path(opt_.file_root, j["source"]["path"].get<std::string>());
        if (!path) return from_error(path.error());
        sub.audio_file = *path;
        sub.owned = false;
        sub.source_name = j["source"]["path"].get<std::string>();
        sub.request = std::move(*opts);
    } else if (mt == "multipart/form-data") {
        auto parts = parse_multipart_file(req.body_file, multipart_boundary(req.header("content-type")),
                                          req.body_file + ".part");
        if (!parts) return from_error(parts.error());
        std::vector<std::string> files;
        for (const auto& p : *parts)
            if (!p.file.empty()) files.push_back(p.file);
        struct Drop {
            std::vector<std::string>& f;
            ~Drop() {
                for (const auto& x : f) remove_quietly(x);
            }
        } drop{files};
        const MultipartPart* file = nullptr;
        AnalysisRequest opts;
        for (const auto& p : *parts) {
            if (p.name == "file" && !p.file.empty()) {
                if (file != nullptr)
                    return problem(400, "invalid_argument", "Invalid request",
                                   "one file per job (use POST /v1/batches for several)", req.path);
                file = &p;
            } else if (p.name == "options") {
                const auto j = json::parse(p.value, nullptr, false);
                if (j.is_discarded()) return problem(400, "invalid-json", "Invalid JSON", "options", req.path);
                auto o = options_from_json(j);
                if (!o) return from_error(o.error());
                auto cb = callback_url_of(&j, nullptr, opt_.callback_hosts);
                if (!cb) return from_error(cb.error());
                sub.callback_url = *cb;
                auto refresh = refresh_from_json(j);
                if (!refresh) return from_error(refresh.error());
                sub.refresh = *refresh;
                auto stems = flag_from_json(j, "stems");
                if (!stems) return from_error(stems.error());
                sub.stems = *stems;
                opts = std::move(*o);
            }
        }
        if (file == nullptr)
            return problem(400, "invalid_argument", "Invalid request", "the form has no 'file' part", req.path);
        sub.audio_file = file->file;
        sub.source_name = clean_name(file->filename);
        sub.request = std::move(opts);
        files.erase(std::remove(files.begin(), files.end(), file->file), files.end());
    } else if (is_audio_media_type(mt)) {
        auto opts = options_from_query(req.query);
        if (!opts) return from_error(opts.error());
        auto cb = callback_url_of(nullptr, &req.query, opt_.callback_hosts);
        if (!cb) return from_error(cb.error());
        sub.callback_url = *cb;
        auto refresh = refresh_from_query(req.query);
        if (!refresh) return from_error(refresh.error());
        sub.refresh = *refresh;
        auto stems = flag_from_query(req.query, "stems");
        if (!stems) return from_error(stems.error());
        sub.stems = *stems;
        sub.audio_file = req.body_file;
        req.body_file.clear();  // the service takes it over
        std::string name = req.query.count("filename") ? req.query.find("filename")->second
                                                       : filename_from_disposition(req.header("content-disposition"));
        sub.source_name = clean_name(name);
        sub.request = std::move(*opts);
    } else {
        return problem(415, "unsupported-media-type", "Unsupported media type",
                       "send audio/* or application/octet-stream, multipart/form-data, or application/json", req.path);
    }
    sub.idempotency_key = req.header("idempotency-key");
    if (sub.idempotency_key.size() > 255)
        return problem(400, "invalid_argument", "Invalid request", "Idempotency-Key is longer than 255 bytes",
                       req.path);
    if (sub.owned && sub.audio_file.empty())
        return problem(400, "invalid_argument", "Invalid request", "no audio in the request", req.path);
    auto job = svc_.submit(std::move(sub));
    if (!job) return from_error(job.error());
    auto res = json_response(202, job_json(*job));
    res.headers.emplace_back("Location", "/v1/jobs/" + job->id);
    if (!is_final(job->state)) res.headers.emplace_back("Retry-After", "1");
    return res;
}

HttpResponse Router::post_batch(HttpRequest& req) {
    const auto mt = media_type(req.header("content-type"));
    std::vector<Submission> subs;
    std::vector<std::string> files;
    struct Drop {
        std::vector<std::string>& f;
        ~Drop() {
            for (const auto& x : f) remove_quietly(x);
        }
    } drop{files};
    if (mt == "application/json") {
        const auto j = json::parse(req.body, nullptr, false);
        if (j.is_discarded() || !j.is_object() || !j.contains("jobs") || !j["jobs"].is_array() || j["jobs"].empty())
            return problem(400, "invalid_argument", "Invalid request", "expected {\"jobs\":[{\"source\":...}]}",
                           req.path);
        for (const auto& item : j["jobs"]) {
            if (!item.is_object() || !item.contains("source") || !item["source"].is_object() ||
                !item["source"].contains("path") || !item["source"]["path"].is_string())
                return problem(400, "invalid_argument", "Invalid request", "every job needs source.path", req.path);
            auto opts = options_from_json(item);
            if (!opts) return from_error(opts.error());
            auto cb = callback_url_of(&item, nullptr, opt_.callback_hosts);
            if (!cb) return from_error(cb.error());
            auto path = confined_path(opt_.file_root, item["source"]["path"].get<std::string>());
            if (!path) return from_error(path.error());
            Submission s;
            s.callback_url = *cb;
            auto refresh = refresh_from_json(item);
            if (!refresh) return from_error(refresh.error());
            s.refresh = *refresh;
            auto stems = flag_from_json(item, "stems");
            if (!stems) return from_error(stems.error());
            s.stems = *stems;
            s.audio_file = *path;
            s.owned = false;
            s.source_name = item["source"]["path"].get<std::string>();
            s.request = std::move(*opts);
            subs.push_back(std::move(s));
        }
    } else if (mt == "multipart/form-data") {
        auto parts = parse_multipart_file(req.body_file, multipart_boundary(req.header("content-type")),
                                          req.body_file + ".part");
        if (!parts) return from_error(parts.error());
        for (const auto& p : *parts)  // every file part first: all removed on any early answer
            if (!p.file.empty()) files.push_back(p.file);
        AnalysisRequest opts;
        std::string callback;
        bool refresh_all = false, stems_all = false;
        for (const auto& p : *parts) {
            if (p.name == "options") {
                const auto j = json::parse(p.value, nullptr, false);
                if (j.is_discarded()) return problem(400, "invalid-json", "Invalid JSON", "options", req.path);
                auto o = options_from_json(j);
                if (!o) return from_error(o.error());
                auto cb = callback_url_of(&j, nullptr, opt_.callback_hosts);
                if (!cb) return from_error(cb.error());
                callback = *cb;
                auto refresh = refresh_from_json(j);
                if (!refresh) return from_error(refresh.error());
                refresh_all = *refresh;
                auto stems = flag_from_json(j, "stems");
                if (!stems) return from_error(stems.error());
                stems_all = *stems;
                opts = std::move(*o);
            }
        }
        for (const auto& p : *parts)
            if (!p.file.empty()) {
                Submission s;
                s.callback_url = callback;
                s.refresh = refresh_all;
                s.stems = stems_all;
                s.audio_file = p.file;
                s.source_name = clean_name(p.filename);
                s.request = opts;
                subs.push_back(std::move(s));
            }
        if (subs.empty())
            return problem(400, "invalid_argument", "Invalid request", "the form has no file parts", req.path);
    } else {
        return problem(415, "unsupported-media-type", "Unsupported media type",
                       "send multipart/form-data (one 'file' part per track) or application/json", req.path);
    }
    // A cap on tracks per request: without it one 177 KB form of tiny parts made 1,000 jobs.
    if (static_cast<std::int64_t>(subs.size()) > opt_.max_batch_jobs)
        return problem(413, "batch-too-large", "Batch too large",
                       "a batch holds at most " + std::to_string(opt_.max_batch_jobs) + " tracks (this one " +
                           std::to_string(subs.size()) + "): split it, or raise --max-batch",
                       req.path);
    // Validate every request before accepting any job, so a batch is accepted whole or not at all.
    for (const auto& s : subs)
        if (auto r = Engine::resolve(s.request); !r) return from_error(r.error());
    auto batch = svc_.create_batch();
    if (!batch) return from_error(batch.error());
    std::vector<JobRecord> jobs;
    for (auto& s : subs) {
        s.batch_id = *batch;
        if (s.owned) files.erase(std::remove(files.begin(), files.end(), s.audio_file), files.end());
        auto j = svc_.submit(std::move(s));
        if (!j) return from_error(j.error());
        jobs.push_back(std::move(*j));
    }
    auto res = json_response(202, batch_json(*batch, jobs));
    res.headers.emplace_back("Location", "/v1/batches/" + *batch);
    return res;
}

HttpResponse Router::get_job(const std::string& id) {
    auto j = svc_.job(id);
    if (!j) return from_error(j.error());
    if (!j->has_value()) return problem(404, "job-not-found", "Unknown job", "no job " + id, "/v1/jobs/" + id);
    auto body = job_json(**j);
    if (auto cb = svc_.store().callback_state(id); cb && cb->has_value())
        body["callback"] = {{"state", (*cb)->first}, {"attempts", (*cb)->second}};
    return json_response(200, body);
}

HttpResponse Router::delete_job(const std::string& id) {
    auto j = svc_.cancel(id);
    if (!j) return from_error(j.error());
    if (!j->has_value()) return problem(404, "job-not-found", "Unknown job", "no job " + id, "/v1/jobs/" + id);
    auto body = job_json(**j);
    if (auto cb = svc_.store().callback_state(id); cb && cb->has_value())
        body["callback"] = {{"state", (*cb)->first}, {"attempts", (*cb)->second}};
    return json_response(200, body);
}

static Result<std::string> result_text(Service& svc, const std::string& id, JobRecord& job, HttpResponse& err) {
    auto j = svc.job(id);
    if (!j) return j.error();
    if (!j->has_value()) {
        err = problem(404, "job-not-found", "Unknown job", "no job " + id, "/v1/jobs/" + id);
        return make_error(ErrorCode::kFileNotFound, "");
    }
    job = **j;
    if (job.state != JobState::kSucceeded) {
        err = problem(409, "job-not-succeeded", "No result",
                      "the job is " + std::string(job_state_name(job.state)) + "; see its status", "/v1/jobs/" + id);
        return make_error(ErrorCode::kInvalidArgument, "");
    }
    auto text = svc.result_json(job);
    if (!text) return text.error();
    if (!text->has_value()) {
        err = problem(410, "result-gone", "Result removed", "the result was removed by retention", "/v1/jobs/" + id);
        return make_error(ErrorCode::kFileNotFound, "");
    }
    // One stored result may serve several uploads of the same audio: show this job's file name.
    auto doc = json::parse(**text, nullptr, false);
    if (doc.is_object() && doc.contains("audio") && doc["audio"].is_object()) doc["audio"]["path"] = job.source_name;
    return doc.dump(2);
}

/// A byte range of a file of `size` bytes from a Range header: {first, last} (inclusive); nullopt:
/// the whole file (no header, or one this server does not honour: several ranges, other units);
/// {-1, -1}: unsatisfiable (416).
static std::optional<std::pair<std::int64_t, std::int64_t>> byte_range(const std::string& header, std::int64_t size) {
    if (header.rfind("bytes=", 0) != 0 || header.find(',') != std::string::npos) return std::nullopt;
    const auto spec = header.substr(6);
    const auto dash = spec.find('-');
    if (dash == std::string::npos) return std::nullopt;
    const auto a = spec.substr(0, dash), b = spec.substr(dash + 1);
    auto num = [](const std::string& t) -> std::optional<std::int64_t> {
        if (t.empty() || t.size() > 18 || t.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
        return std::stoll(t);
    };
    const std::pair<std::int64_t, std::int64_t> none{-1, -1};
    if (a.empty()) {  // the last N bytes
        auto n = num(b);
        if (!n) return std::nullopt;
        if (*n == 0 || size == 0) return none;
        return std::make_pair(std::max<std::int64_t>(0, size - *n), size - 1);
    }
    auto first = num(a);
    if (!first) return std::nullopt;
    std::int64_t last = size - 1;
    if (!b.empty()) {
        auto l = num(b);
        if (!l || *l < *first) return std::nullopt;  // malformed: ignored (RFC 9110 14.2)
        last = std::min(*l, size - 1);
    }
    if (*first >= size) return none;
    return std::make_pair(*first, last);
}

HttpResponse Router::get_stem(const std::string& id, const std::string& name_in, const HttpRequest& req) {
    const std::string inst = "/v1/jobs/" + id + "/stems/" + name_in;
    auto j = svc_.job(id);
    if (!j) return from_error(j.error());
    if (!j->has_value()) return problem(404, "job-not-found", "Unknown job", "no job " + id, inst);
    const auto& job = **j;
    if (!is_stems_key(job.result_key))
        return problem(404, "stems-not-kept", "No stems",
                       "this job was not submitted with stems=true: no stem audio was kept for it", inst);
    std::string name = name_in;
    for (const std::string ext : {".wav", ".flac"})
        if (name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0)
            name.resize(name.size() - ext.size());
    if (std::find(stem_names().begin(), stem_names().end(), name) == stem_names().end())
        return problem(404, "unknown-stem", "Unknown stem", "no stem '" + name_in + "': vocals, drums, bass or other",
                       inst);
    if (job.state != JobState::kSucceeded)
        return problem(409, "job-not-succeeded", "No stems yet",
                       "the job is " + std::string(job_state_name(job.state)) + "; see its status", inst);
    const auto file = svc_.stem_file(job, name);
    if (!file)
        return problem(404, "stem-not-found", "Stem not found",
                       "the " + name +
                           " stem of this job is not on this server (the separation failed: see the Song Map's "
                           "warnings)",
                       inst);
    std::error_code ec;
    const auto size = static_cast<std::int64_t>(fs::file_size(*file, ec));
    if (ec) return problem(500, "io_error", "Internal error", "the stem cannot be read", inst);
    HttpResponse res;
    const std::string ext = fs::path(*file).extension().string();  // ".wav" or ".flac"
    res.content_type = ext == ".flac" ? "audio/flac" : "audio/wav";
    res.headers.emplace_back("Accept-Ranges", "bytes");
    res.headers.emplace_back("Cache-Control", "private, no-cache");
    std::string base = fs::path(job.source_name).stem().string();
    for (auto& c : base)
        if (c == '"' || c == '\\') c = '_';
    res.headers.emplace_back("Content-Disposition", "inline; filename=\"" + base + "-" + name + ext + "\"");
    std::int64_t first = 0, last = size - 1;
    if (auto range = byte_range(req.header("range"), size)) {
        if (range->first < 0) {
            auto p = problem(416, "range-not-satisfiable", "Range not satisfiable",
                             "the stem has " + std::to_string(size) + " bytes", inst);
            p.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
            return p;
        }
        first = range->first;
        last = range->second;
        res.status = 206;
        res.headers.emplace_back("Content-Range", "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
                                                      std::to_string(size));
    }
    // Streamed from the file by the socket layer (HEAD: the header alone).
    res.file = HttpResponse::FileSlice{*file, first, last - first + 1};
    return res;
}

HttpResponse Router::get_result(const std::string& id) {
    JobRecord job;
    HttpResponse err;
    auto text = result_text(svc_, id, job, err);
    if (!text) return err.status != 200 ? err : from_error(text.error());
    HttpResponse res;
    res.body = std::move(*text);
    return res;
}

/// The ?key_notation= of an export; false (and a 400 in `err`) when it is not one of the three.
static bool export_options(const HttpRequest& req, ExportOptions& eo, HttpResponse& err) {
    if (auto it = req.query.find("key_notation"); it != req.query.end()) {
        if (it->second == "camelot")
            eo.key_notation = KeyNotation::kCamelot;
        else if (it->second == "openkey" || it->second == "open_key")
            eo.key_notation = KeyNotation::kOpenKey;
        else if (it->second != "standard") {
            err =
                problem(400, "invalid_argument", "Invalid request", "key_notation: standard|camelot|openkey", req.path);
            return false;
        }
    }
    if (auto it = req.query.find("downbeats"); it != req.query.end()) {
        auto policy = parse_downbeat_policy(it->second);
        if (!policy) {
            err = problem(400, "invalid_argument", "Invalid request", "downbeats: auto|trust|beat1", req.path);
            return false;
        }
        eo.downbeats = *policy;
    }
    return true;
}

/// The export of `maps` as a download named `base` + the format's extension.
static HttpResponse export_response(const std::vector<SongMap>& maps, ExportFormat fmt, const ExportOptions& eo,
                                    std::string base, const HttpRequest& req) {
    auto out = export_song_maps(maps, fmt, eo);
    if (!out) {
        if (out.error().code == ErrorCode::kInvalidArgument)
            return problem(422, "export-not-possible", "Export not possible", out.error().message, req.path);
        return from_error(out.error());
    }
    HttpResponse res;
    res.content_type = std::string(export_content_type(fmt));
    res.body = std::move(*out);
    for (auto& c : base)
        if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = '_';
    res.headers.emplace_back("Content-Disposition",
                             "attachment; filename=\"" + base + std::string(export_file_extension(fmt)) + "\"");
    return res;
}

HttpResponse Router::get_export(const std::string& id, const std::string& format, const HttpRequest& req) {
    auto fmt = parse_export_format(format);
    if (!fmt) return problem(404, "unknown-export-format", "Unknown export format", fmt.error().message, req.path);
    ExportOptions eo;
    HttpResponse err;
    if (!export_options(req, eo, err)) return err;
    JobRecord job;
    auto text = result_text(svc_, id, job, err);
    if (!text) return err.status != 200 ? err : from_error(text.error());
    auto map = song_map_from_json(*text);
    if (!map) return from_error(map.error());
    std::string base = fs::path(job.source_name).stem().string();
    return export_response({*map}, *fmt, eo, base.empty() ? job.id : base, req);
}

HttpResponse Router::post_exports(const std::string& format, const HttpRequest& req) {
    auto fmt = parse_export_format(format);
    if (!fmt) return problem(404, "unknown-export-format", "Unknown export format", fmt.error().message, req.path);
    ExportOptions eo;
    HttpResponse err;
    if (!export_options(req, eo, err)) return err;
    if (media_type(req.header("content-type")) != "application/json")
        return problem(415, "unsupported-media-type", "Unsupported media type", "send {\"jobs\":[id, ...]} as JSON",
                       req.path);
    const auto body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("jobs") || !body["jobs"].is_array() ||
        body["jobs"].empty() || body["jobs"].size() > 10000 || body.size() != 1)
        return problem(400, "invalid_argument", "Invalid request", "expected {\"jobs\":[id, ...]} (1 to 10000 ids)",
                       req.path);
    std::vector<SongMap> maps;
    for (const auto& id : body["jobs"]) {
        if (!id.is_string())
            return problem(400, "invalid_argument", "Invalid request", "job ids are strings", req.path);
        JobRecord job;
        auto text = result_text(svc_, id.get<std::string>(), job, err);
        if (!text) return err.status != 200 ? err : from_error(text.error());
        auto map = song_map_from_json(*text);
        if (!map) return from_error(map.error());
        maps.push_back(std::move(*map));
    }
    return export_response(maps, *fmt, eo, maps.size() == 1 ? "harmony-export" : "harmony-collection", req);
}

HttpResponse Router::list_jobs(const HttpRequest& req) {
    static constexpr int kMaxLimit = 200;
    auto bad = [&](const std::string& detail) {
        return problem(400, "invalid_argument", "Invalid request", detail, req.path);
    };
    JobQuery q;
    std::string self = "/v1/jobs", next_query;
    auto keep = [&](const std::string& k, const std::string& v) {
        next_query += (next_query.empty() ? "?" : "&") + k + "=" + pct_encode(v);
    };
    for (const auto& [k, v] : req.query) {
        if (k == "status") {
            std::size_t start = 0;
            while (start <= v.size()) {
                const auto end = std::min(v.find(',', start), v.size());
                const auto name = v.substr(start, end - start);
                const auto st = parse_job_state(name);
                if (!st)
                    return bad("unknown status '" + name +
                               "' (expected queued, running, succeeded, failed or canceled, comma-separated)");
                q.states.push_back(*st);
                start = end + 1;
            }
            keep(k, v);
        } else if (k == "batch_id") {
            if (v.empty()) return bad("batch_id is empty");
            q.batch_id = v;
            keep(k, v);
        } else if (k == "created_after" || k == "created_before") {
            const auto ms = parse_rfc3339(v);
            if (!ms) return bad(k + " is not an RFC 3339 date-time (e.g. 2026-12-03T10:00:00Z)");
            (k == "created_after" ? q.created_from_ms : q.created_to_ms) = k == "created_after" ? *ms + 1 : *ms;
            keep(k, v);
        } else if (k == "limit") {
            int n = 0;
            const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            if (ec != std::errc() || end != v.data() + v.size() || n < 1 || n > kMaxLimit)
                return bad("limit must be an integer from 1 to " + std::to_string(kMaxLimit));
            q.limit = n;
            keep(k, v);
        } else if (k == "cursor") {
            const auto seq = decode_cursor(v);
            if (!seq) return bad("cursor is not one this server gave (use next_cursor from a previous page)");
            q.before_seq = *seq;
        } else if (k != "access_token") {
            return bad("unknown query parameter '" + k +
                       "' (expected status, batch_id, created_after, created_before, limit, cursor)");
        }
    }
    auto page = svc_.list_jobs(q);
    if (!page) return from_error(page.error());
    json jobs = json::array();
    for (const auto& j : page->jobs) jobs.push_back(job_json(j));
    json links = {{"self", self}};
    json next = nullptr;
    if (page->next_seq > 0) {
        next = encode_cursor(page->next_seq);
        links["next"] = self + (next_query.empty() ? "?" : next_query + "&") + "cursor=" + next.get<std::string>();
    }
    return json_response(200, {{"jobs", jobs}, {"next_cursor", next}, {"links", links}});
}

HttpResponse Router::get_batch(const std::string& id) {
    auto b = svc_.batch(id);
    if (!b) return from_error(b.error());
    if (!b->has_value()) return problem(404, "batch-not-found", "Unknown batch", "no batch " + id, "/v1/batches/" + id);
    return json_response(200, batch_json(id, **b));
}

std::optional<std::pair<std::string, bool>> Router::job_event(const std::string& id) {
    auto j = svc_.job(id);
    if (!j || !j->has_value()) return std::nullopt;
    const auto& r = **j;
    const auto eta = eta_s(r);
    json e = {{"type", "progress"},
              {"job", r.id},
              {"status", job_state_name(r.state)},
              {"stage", r.stage},
              {"progress", r.progress},
              {"eta_s", eta ? json(*eta) : json(nullptr)}};
    if (r.state == JobState::kFailed) e["error"] = error_problem(r);
    return std::make_pair(e.dump(-1, ' ', false, json::error_handler_t::replace), is_final(r.state));
}

std::optional<std::pair<std::string, bool>> Router::batch_event(const std::string& id) {
    auto b = svc_.batch(id);
    if (!b || !b->has_value()) return std::nullopt;
    auto j = batch_json(id, **b);
    bool done = true;
    for (const auto& r : **b) done = done && is_final(r.state);
    json e = {{"type", "progress"},        {"batch", id},         {"status", j["status"]},
              {"progress", j["progress"]}, {"eta_s", j["eta_s"]}, {"counts", j["counts"]}};
    // The per-job stage of running jobs, so a UI can show what each is doing.
    json running = json::array();
    for (const auto& r : **b)
        if (r.state == JobState::kRunning)
            running.push_back({{"job", r.id}, {"stage", r.stage}, {"progress", r.progress}});
    e["running"] = running;
    return std::make_pair(e.dump(-1, ' ', false, json::error_handler_t::replace), done);
}

Result<library::Library*> Router::open_library() {
    std::lock_guard lock(lib_->mu);
    if (lib_->lib) return lib_->lib.get();
    if (opt_.library_path.empty())
        return make_error(ErrorCode::kFileNotFound,
                          "this server does not serve a track library (start it with --library PATH)");
    std::error_code ec;
    if (!fs::is_regular_file(opt_.library_path, ec))
        return make_error(ErrorCode::kFileNotFound,
                          "the track library is empty: nothing was analysed with `harmony analyze` yet");
    auto l = library::Library::open(opt_.library_path);
    if (!l) return l.error();
    lib_->lib = std::move(*l);
    return lib_->lib.get();
}

namespace {
json library_row_json(const library::TrackRow& r) {
    auto opt = [](const auto& v) { return v ? json(*v) : json(nullptr); };
    return {{"content_hash", r.content_hash},
            {"path", core::to_valid_utf8(r.path)},
            {"title", core::to_valid_utf8(r.title)},
            {"artist", core::to_valid_utf8(r.artist)},
            {"duration_s", r.duration_s},
            {"bpm", opt(r.bpm)},
            {"key", r.key_label},
            {"camelot", r.camelot},
            {"open_key", r.open_key},
            {"integrated_lufs", opt(r.integrated_lufs)},
            {"energy", opt(r.energy)},
            {"analyzed_at", r.analyzed_at},
            {"copies", r.copies},
            {"links", {{"song_map", "/v1/library/tracks/" + r.content_hash}}}};
}

Result<std::optional<double>> number_param(const std::multimap<std::string, std::string>& q, const std::string& k) {
    auto it = q.find(k);
    if (it == q.end() || it->second.empty()) return std::optional<double>();
    try {
        std::size_t used = 0;
        const double v = std::stod(it->second, &used);
        if (used == it->second.size() && std::isfinite(v)) return std::optional<double>(v);
    } catch (const std::exception&) {
    }
    return make_error(ErrorCode::kInvalidArgument, k + " must be a number, not '" + it->second + "'");
}
}  // namespace

HttpResponse Router::get_library(const HttpRequest& req) {
    library::Query q;
    for (const auto& [k, v] : req.query) {
        if (k == "sort") {
            q.sort = v;
        } else if (k == "order") {
            if (v != "asc" && v != "desc")
                return problem(400, "invalid_argument", "Invalid request", "order must be asc or desc", req.path);
            q.descending = v == "desc";
        } else if (k == "key") {
            std::string cur;
            for (char c : v + ",")
                if (c == ',') {
                    if (!cur.empty()) {
                        if (library::normalise_camelot(cur).empty())
                            return problem(400, "invalid_argument", "Invalid request", "not a key: '" + cur + "'",
                                           req.path);
                        q.camelot.push_back(cur);
                    }
                    cur.clear();
                } else {
                    cur += c;
                }
        } else if (k == "q") {
            q.path_contains = v;
        } else if (k != "bpm_min" && k != "bpm_max" && k != "energy_min" && k != "energy_max" && k != "limit" &&
                   k != "access_token") {
            return problem(400, "invalid_argument", "Invalid request", "unknown query parameter '" + k + "'", req.path);
        }
    }
    for (const char* k : {"bpm_min", "bpm_max", "energy_min", "energy_max", "limit"}) {
        auto v = number_param(req.query, k);
        if (!v) return from_error(v.error());
        if (!*v) continue;
        const std::string key = k;
        if (key == "bpm_min") q.bpm_min = **v;
        if (key == "bpm_max") q.bpm_max = **v;
        if (key == "energy_min") q.energy_min = static_cast<int>(std::lround(**v));
        if (key == "energy_max") q.energy_max = static_cast<int>(std::lround(**v));
        if (key == "limit") {
            if (**v < 0 || **v > 1e6)
                return problem(400, "invalid_argument", "Invalid request", "limit must be 0 to 1000000", req.path);
            q.limit = static_cast<int>(**v);
        }
    }
    auto lib = open_library();
    if (!lib) {
        if (lib.error().code == ErrorCode::kFileNotFound)
            return problem(404, "library-not-found", "No track library", lib.error().message, req.path);
        return from_error(lib.error());
    }
    auto rows = (*lib)->list(q);
    if (!rows) return from_error(rows.error());
    json tracks = json::array();
    for (const auto& r : *rows) tracks.push_back(library_row_json(r));
    return json_response(200, {{"count", tracks.size()}, {"tracks", tracks}});
}

HttpResponse Router::get_library_track(const std::string& content_hash) {
    const std::string self = "/v1/library/tracks/" + content_hash;
    auto lib = open_library();
    if (!lib) {
        if (lib.error().code == ErrorCode::kFileNotFound)
            return problem(404, "library-not-found", "No track library", lib.error().message, self);
        return from_error(lib.error());
    }
    library::Query q;
    q.include_missing = true;  // the analysis stays readable after the file moved away
    auto rows = (*lib)->list(q);
    if (!rows) return from_error(rows.error());
    for (const auto& r : *rows) {
        if (r.content_hash != content_hash) continue;
        auto map = (*lib)->find(r.content_hash, r.config_key);
        if (!map) return from_error(map.error());
        if (!map->has_value()) break;
        HttpResponse res;
        res.body = **map;
        return res;
    }
    return problem(404, "track-not-found", "Unknown track", "no analysis of " + content_hash + " in the library", self);
}

}  // namespace harmony::server::http
