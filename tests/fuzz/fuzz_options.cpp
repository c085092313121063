// libFuzzer target: analysis options as clients send them — a JSON object (a job's body, a
// multipart "options" part, one job of a batch) and, read as a query string, the options of an
// audio upload — then what the service does with accepted options before storing a job: their
// canonical JSON (round trip), the analyzer plan (Engine::resolve) and the cache key, which
// configures every planned analyzer with the given parameters.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/utf8.hpp"
#include "fuzz_common.hpp"
#include "harmony/engine.hpp"
#include "server/http/request_options.hpp"
#include "server/http/request_target.hpp"
#include "server/service.hpp"

using namespace harmony;
using namespace harmony::server::http;

namespace {

void check_accepted(const AnalysisRequest& r) {
    const auto text = server::request_to_json(r);
    if (!nlohmann::json::accept(text)) fuzz::fail("request_to_json wrote invalid JSON");
    const auto back = server::request_from_json(text);
    if (back.only != r.only || back.params != r.params) fuzz::fail("request JSON round trip");
    if (server::request_to_json(back) != text) fuzz::fail("request JSON is not canonical");
    if (auto plan = Engine::resolve(r)) {
        static Engine engine;
        (void)engine.cache_key(r);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto j = nlohmann::json::parse(in.begin(), in.end(), nullptr, false);
    if (!j.is_discarded()) {
        if (auto r = options_from_json(j)) check_accepted(*r);
    }
    HttpRequest req;
    split_target(std::string("/v1/jobs?").append(in), req);
    // As the socket layer: a query that is not UTF-8 once decoded is answered 400 before this.
    for (const auto& [k, v] : req.query)
        if (!core::is_valid_utf8(k) || !core::is_valid_utf8(v)) return 0;
    if (auto r = options_from_query(req.query)) check_accepted(*r);
    return 0;
}
