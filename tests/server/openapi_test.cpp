// schemas/openapi.json is the API as served: every route served is documented and vice versa, the
// document is what /openapi.json returns, and real responses validate against its schemas.
#include <gtest/gtest.h>

#include <set>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "server/http/router.hpp"
#include "server_harness.hpp"
#include "support/test_support.hpp"

namespace harmony::test {
namespace {

using nlohmann::json;

json openapi_doc() {
    return json::parse(read_file(std::string(HARMONY_SOURCE_DIR) + "/schemas/openapi.json"));
}

/// Follows a local "$ref" ("#/components/...") once.
json deref(const json& doc, const json& node) {
    if (!node.is_object() || !node.contains("$ref")) return node;
    return doc.at(json::json_pointer(node["$ref"].get<std::string>().substr(1)));
}

/// Validates `body` against the schema documented for (path template, method, status, type).
std::string validate(const json& doc, const std::string& path, const std::string& method, int status,
                     const std::string& content_type, const json& body) {
    const auto& op = doc["paths"][path][method];
    const auto key = std::to_string(status);
    if (!op["responses"].contains(key)) return "status " + key + " not documented for " + method + " " + path;
    const auto resp = deref(doc, op["responses"][key]);
    if (!resp.contains("content") || !resp["content"].contains(content_type))
        return "content type " + content_type + " not documented for " + method + " " + path + " " + key;
    json schema = resp["content"][content_type]["schema"];
    json root = schema;
    root["components"] = doc["components"];
    valijson::Schema compiled;
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter sa(root);
    parser.populateSchema(sa, compiled);
    valijson::Validator v;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter ba(body);
    if (v.validate(compiled, ba, &results)) return {};
    std::string msg = method + " " + path + " " + key + ": ";
    valijson::ValidationResults::Error e;
    while (results.popError(e)) {
        for (const auto& c : e.context) msg += c;
        msg += ": " + e.description + "; ";
    }
    return msg;
}

TEST(OpenApi, EveryServedRouteIsDocumentedAndViceVersa) {
    const auto doc = openapi_doc();
    EXPECT_EQ(doc["openapi"].get<std::string>().rfind("3.1", 0), 0u);
    std::set<std::string> served, documented;
    for (const auto& r : server::http::routes()) served.insert(std::string(r.method) + " " + r.pattern);
    for (auto it = doc["paths"].begin(); it != doc["paths"].end(); ++it)
        for (const char* m : {"get", "post", "put", "delete", "patch"})
            if (it.value().contains(m)) {
                std::string up = m;
                for (auto& c : up) c = static_cast<char>(std::toupper(c));
                documented.insert(up + " " + it.key());
            }
    EXPECT_EQ(served, documented);
}

TEST(OpenApi, ServedDocumentAndResponsesMatchTheSchemas) {
    TempDir d;
    Server s(d.file("data"), {"--debug-job-delay-ms", "300"});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    const auto doc = openapi_doc();
    auto served = c.Get("/openapi.json");
    ASSERT_TRUE(served);
    EXPECT_EQ(json::parse(served->body), doc);

    auto check = [&](const httplib::Result& r, const std::string& path, const std::string& method) {
        ASSERT_TRUE(r);
        auto ct = r->get_header_value("Content-Type");
        EXPECT_EQ(validate(doc, path, method, r->status, ct, json::parse(r->body)), "");
    };
    check(c.Get("/health"), "/health", "get");
    check(c.Get("/ready"), "/ready", "get");
    auto post = post_audio(c, make_wav_bytes(2.0, 400), "?only=tempo");
    check(post, "/v1/jobs", "post");
    const std::string id = json::parse(post->body)["id"];
    check(c.Get(("/v1/jobs/" + id).c_str()), "/v1/jobs/{id}", "get");                     // queued or running
    check(c.Get(("/v1/jobs/" + id + "/result").c_str()), "/v1/jobs/{id}/result", "get");  // 409 (not yet)
    std::vector<std::string> msgs;
    ASSERT_EQ(websocket_collect(s.port(), "/v1/jobs/" + id + "/events", msgs, 30000), 101);
    json ev_schema = doc["components"]["schemas"]["ProgressEvent"];
    for (const auto& m : msgs) {
        json root = ev_schema;
        root["components"] = doc["components"];
        valijson::Schema compiled;
        valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
        valijson::adapters::NlohmannJsonAdapter sa(root);
        parser.populateSchema(sa, compiled);
        valijson::Validator v;
        const auto body = json::parse(m);
        valijson::adapters::NlohmannJsonAdapter ba(body);
        EXPECT_TRUE(v.validate(compiled, ba, nullptr)) << m;
    }
    check(c.Get(("/v1/jobs/" + id).c_str()), "/v1/jobs/{id}", "get");  // succeeded
    check(c.Get(("/v1/jobs/" + id + "/result").c_str()), "/v1/jobs/{id}/result", "get");
    check(c.Get(("/v1/jobs/" + id + "/export/json").c_str()), "/v1/jobs/{id}/export/{format}", "get");
    check(c.Delete(("/v1/jobs/" + id).c_str()), "/v1/jobs/{id}", "delete");
    check(c.Get("/v1/jobs/nope"), "/v1/jobs/{id}", "get");
    check(c.Delete("/v1/jobs/nope"), "/v1/jobs/{id}", "delete");
    check(c.Post("/v1/jobs", "x", "text/plain"), "/v1/jobs", "post");
    httplib::MultipartFormDataItems items = {{"file", make_wav_bytes(1.0, 401), "a.wav", "audio/wav"},
                                             {"file", make_wav_bytes(1.0, 402), "b.wav", "audio/wav"}};
    auto batch = c.Post("/v1/batches", items);
    check(batch, "/v1/batches", "post");
    check(c.Get(("/v1/batches/" + json::parse(batch->body)["id"].get<std::string>()).c_str()), "/v1/batches/{id}",
          "get");
    check(c.Get("/v1/batches/nope"), "/v1/batches/{id}", "get");
    check(c.Get("/v1/jobs?limit=1"), "/v1/jobs", "get");  // a page with a next link
    check(c.Get("/v1/jobs?status=succeeded,canceled&limit=200"), "/v1/jobs", "get");
    check(c.Get("/v1/jobs?limit=0"), "/v1/jobs", "get");
}

TEST(OpenApi, LibraryAndRefreshResponsesMatchTheSchemas) {
    TempDir d;
    write_file(d.file("a.wav"), make_wav_bytes(4.0, 31));
    auto r = run_command(
        {harmony_bin(), "analyze", d.file("a.wav"), "--library", d.file("lib.sqlite"), "--only", "tempo,loudness"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Server s(d.file("data"), {"--library", d.file("lib.sqlite")});
    ASSERT_TRUE(s.start()) << s.log();
    auto c = s.client();
    const auto doc = openapi_doc();
    auto check = [&](const httplib::Result& res, const std::string& path, const std::string& method) {
        ASSERT_TRUE(res);
        EXPECT_EQ(
            validate(doc, path, method, res->status, res->get_header_value("Content-Type"), json::parse(res->body)),
            "");
    };
    auto lib = c.Get("/v1/library");
    check(lib, "/v1/library", "get");
    ASSERT_EQ(lib->status, 200);
    const std::string hash = json::parse(lib->body)["tracks"][0]["content_hash"];
    check(c.Get(("/v1/library/tracks/" + hash).c_str()), "/v1/library/tracks/{content_hash}", "get");
    check(c.Get("/v1/library/tracks/xxh128:00"), "/v1/library/tracks/{content_hash}", "get");  // 404
    check(c.Get("/v1/library?bpm_min=x"), "/v1/library", "get");                               // 400
    auto fresh = post_audio(c, make_wav_bytes(2.0, 32), "?only=tempo&refresh=1");
    check(fresh, "/v1/jobs", "post");
    EXPECT_TRUE(json::parse(fresh->body)["refresh"].get<bool>());
}

}  // namespace
}  // namespace harmony::test
