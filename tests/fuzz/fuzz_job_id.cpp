// libFuzzer target: job and batch ids as they arrive in a path ("/v1/jobs/<id>...": any bytes,
// percent-decoded) through every route that takes one, on a real service (router_fixture.hpp).
// The input is the id; "{job}" and "{batch}" are replaced by ids that exist.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/utf8.hpp"
#include "fuzz_common.hpp"
#include "router_fixture.hpp"
#include "server/http/request_target.hpp"

using namespace harmony::server::http;

namespace {

void check(const HttpResponse& r) {
    if (r.status == 500) harmony::fuzz::fail("500 (an internal error) answering an id");
    if (r.content_type.find("json") != std::string::npos && !nlohmann::json::accept(r.body))
        harmony::fuzz::fail("a JSON answer that is not JSON");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto& fx = harmony::fuzz::RouterFixture::get();
    const std::string id = harmony::fuzz::with_ids(std::string(reinterpret_cast<const char*>(data), size), fx);
    for (const auto& [method, suffix] :
         std::initializer_list<std::pair<const char*, const char*>>{{"GET", ""},
                                                                    {"GET", "/result"},
                                                                    {"GET", "/export/rekordbox"},
                                                                    {"GET", "/export/csv?key_notation=camelot"},
                                                                    {"GET", "/events"},
                                                                    {"DELETE", ""}}) {
        HttpRequest req;
        req.method = method;
        split_target("/v1/jobs/" + id + suffix, req);
        if (const auto ev = Router::events_target(req.method, req.path)) {
            (void)fx.router->job_event(ev->second);
            continue;
        }
        // As the socket layer: a target that is not UTF-8 once decoded never reaches the router.
        if (!harmony::core::is_valid_utf8(req.path)) return 0;
        check(fx.router->handle(req));
    }
    HttpRequest batch;
    batch.method = "GET";
    split_target("/v1/batches/" + id, batch);
    check(fx.router->handle(batch));
    (void)fx.router->batch_event(id);
    HttpRequest exp;
    exp.method = "POST";
    split_target("/v1/exports/json", exp);
    exp.headers["content-type"] = "application/json";
    exp.body = nlohmann::json{{"jobs", {id, fx.job_id}}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    check(fx.router->handle(exp));
    return 0;
}
