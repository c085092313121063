// libFuzzer target: raw bytes of an HTTP/1.1 request through what the socket layer does with them
// (Beast's parser with the server's limits, target split and percent-decoded, headers, the UTF-8
// and Host checks) and then the router, on a real service (router_fixture.hpp): every route,
// job and batch ids, JSON bodies, uploads and multipart forms, exports. "{job}" and "{batch}" in
// the target or body are replaced by ids that exist.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "core/utf8.hpp"
#include "fuzz_common.hpp"
#include "router_fixture.hpp"
#include "server/http/http_server.hpp"
#include "server/http/request_target.hpp"
#include "server/job_store.hpp"

namespace beast = boost::beast;
namespace bhttp = beast::http;
using namespace harmony::server::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto& fx = harmony::fuzz::RouterFixture::get();
    const std::string raw = harmony::fuzz::with_ids(std::string(reinterpret_cast<const char*>(data), size), fx);

    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(32 * 1024);
    parser.body_limit(1 << 20);
    parser.eager(true);
    beast::error_code ec;
    std::size_t used = 0;
    while (used < raw.size() && !parser.is_done()) {
        const auto n = parser.put(boost::asio::buffer(raw.data() + used, raw.size() - used), ec);
        if (ec || n == 0) break;
        used += n;
    }
    if (!parser.is_header_done()) return 0;
    if (!parser.is_done()) {  // the client would still be sending: nothing is answered yet
        return 0;
    }
    auto& h = parser.get();
    HttpRequest req;
    req.method = std::string(h.method_string());
    split_target(std::string_view(h.target().data(), h.target().size()), req);
    for (const auto& f : h) {
        std::string name(f.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        req.headers[name] = std::string(f.value());
    }
    if (!host_allowed(req.header("host"), {}, "127.0.0.1")) return 0;  // 421
    bool utf8 = harmony::core::is_valid_utf8(req.path);
    for (const auto& [k, v] : req.query)
        utf8 = utf8 && harmony::core::is_valid_utf8(k) && harmony::core::is_valid_utf8(v);
    if (!utf8) return 0;  // 400
    if (Router::events_target(req.method, req.path)) {
        // The socket layer streams these; the router is asked for the snapshot.
        const auto ev = Router::events_target(req.method, req.path);
        auto snap = ev->first == "job" ? fx.router->job_event(ev->second) : fx.router->batch_event(ev->second);
        if (snap && !nlohmann::json::accept(snap->first)) harmony::fuzz::fail("event is not JSON");
        return 0;
    }
    std::string ct = req.header("content-type");
    for (auto& c : ct) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (Router::is_upload_route(req.method, req.path) && ct.rfind("application/json", 0) != 0) {
        req.body_file = (std::filesystem::path(fx.router->uploads_dir()) / harmony::server::new_id()).string();
        harmony::fuzz::write_file(req.body_file, h.body());
    } else {
        req.body = h.body();
    }
    const auto res = fx.router->handle(req);
    if (std::getenv("HARMONY_FUZZ_VERBOSE") != nullptr)
        std::fprintf(stderr, "%s %s -> %d %s\n", req.method.c_str(), req.path.c_str(), res.status, res.body.c_str());
    if (res.status < 200 || res.status > 599) harmony::fuzz::fail("status out of range");
    // 500 is an internal error (a bug: an exception or a failure inside); 503 is /ready here.
    if (res.status == 500) harmony::fuzz::fail("a request answered 500 (an internal error)");
    if (res.content_type.find("json") != std::string::npos && !res.body.empty() && !nlohmann::json::accept(res.body))
        harmony::fuzz::fail("a JSON answer that is not JSON");
    std::error_code fe;
    if (!req.body_file.empty() && std::filesystem::exists(req.body_file, fe))
        harmony::fuzz::fail("an upload was left behind");
    // Uploads and their multipart pieces are either a job's now or removed.
    if (!std::filesystem::is_empty(fx.router->uploads_dir(), fe)) harmony::fuzz::fail("files left in uploads/");
    return 0;
}
