// libFuzzer target: the request target of an HTTP request (split_target: path, query, percent
// decoding), then what the socket layer does with it before any route runs: the UTF-8 check,
// the JSON text of the access log and of a problem answer, the stream and upload route tests
// (which take the job id out of the path) and the Host check.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/utf8.hpp"
#include "fuzz_common.hpp"
#include "server/http/http_server.hpp"
#include "server/http/request_target.hpp"

using namespace harmony::server::http;

namespace {

std::string pct_encode(std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        out += '%';
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view target(reinterpret_cast<const char*>(data), size);
    HttpRequest req;
    split_target(target, req);
    const bool has_query = target.find('?') != std::string_view::npos;
    if (!has_query && !req.query.empty()) harmony::fuzz::fail("a query without '?'");
    if (req.path.size() > target.size()) harmony::fuzz::fail("decoding made the path longer");

    // Every byte string survives encoding and decoding unchanged.
    if (pct_decode(pct_encode(req.path), false) != req.path) harmony::fuzz::fail("percent round trip");

    bool utf8 = harmony::core::is_valid_utf8(req.path);
    for (const auto& [k, v] : req.query)
        utf8 = utf8 && harmony::core::is_valid_utf8(k) && harmony::core::is_valid_utf8(v);
    if (utf8) {
        // What passes the check is JSON text as it is (nlohmann throws type_error.316 otherwise).
        nlohmann::json j = {{"path", req.path}};
        for (const auto& [k, v] : req.query) j["query"][k] = v;
        (void)j.dump();
        if (harmony::core::to_valid_utf8(req.path) != req.path) harmony::fuzz::fail("to_valid_utf8 changed UTF-8");
    } else {
        if (!harmony::core::is_valid_utf8(harmony::core::to_valid_utf8(req.path)))
            harmony::fuzz::fail("to_valid_utf8 left invalid UTF-8");
    }
    // Problem bodies and the access log carry the path whatever it holds.
    const auto p = problem(404, "not-found", "Not found", "no such resource", req.path);
    if (!nlohmann::json::accept(p.body)) harmony::fuzz::fail("problem body is not JSON");

    for (const char* method : {"GET", "POST", "DELETE"}) {
        if (auto ev = Router::events_target(method, req.path)) {
            if (ev->second.empty() || ev->second.find('/') != std::string::npos)
                harmony::fuzz::fail("events target id empty or with a slash");
            if (ev->first != "job" && ev->first != "batch") harmony::fuzz::fail("events target kind");
        }
        (void)Router::is_upload_route(method, req.path);
    }
    if (auto it = req.query.find("host"); it != req.query.end()) {
        (void)host_name(it->second);
        (void)host_allowed(it->second, {}, "127.0.0.1");
        (void)host_allowed(it->second, {"example.org", "*.bad"}, "0.0.0.0");
    }
    (void)host_name(req.path);
    return 0;
}
