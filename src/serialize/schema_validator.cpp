#include <mutex>
#include <sstream>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "serialize/song_map_json.hpp"

namespace harmony::serialize {

namespace {
const valijson::Schema& compiled_schema() {
    static valijson::Schema schema;
    static std::once_flag once;
    std::call_once(once, [] {
        const auto doc = nlohmann::json::parse(schema_text());
        valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
        valijson::adapters::NlohmannJsonAdapter adapter(doc);
        parser.populateSchema(adapter, schema);
    });
    return schema;
}
}  // namespace

Result<void> validate(const nlohmann::json& value) {
    valijson::Validator validator(valijson::Validator::kStrongTypes);
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter adapter(value);
    if (validator.validate(compiled_schema(), adapter, &results)) return {};
    std::ostringstream msg;
    msg << "Song Map violates its schema:";
    valijson::ValidationResults::Error e;
    int shown = 0;
    while (results.popError(e) && shown < 3) {
        std::string where;
        for (const auto& c : e.context) where += c;
        msg << " [" << where << ": " << e.description << "]";
        ++shown;
    }
    return make_error(ErrorCode::kSchemaViolation, msg.str());
}

}  // namespace harmony::serialize
