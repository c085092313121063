#include <cmath>
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
/// JSON has no NaN or infinity: nlohmann would print them as null and change their meaning.
bool find_non_finite(const nlohmann::json& v, std::string& where) {
    if (v.is_number_float() && !std::isfinite(v.get<double>())) return true;
    if (v.is_object()) {
        for (auto it = v.begin(); it != v.end(); ++it)
            if (find_non_finite(it.value(), where)) {
                where = "/" + it.key() + where;
                return true;
            }
    } else if (v.is_array()) {
        for (size_t i = 0; i < v.size(); ++i)
            if (find_non_finite(v[i], where)) {
                where = "/" + std::to_string(i) + where;
                return true;
            }
    }
    return false;
}
}  // namespace

Result<void> validate(const nlohmann::json& value) {
    if (std::string where; find_non_finite(value, where))
        return make_error(ErrorCode::kSchemaViolation, "Song Map violates its schema: non-finite number at " + where);
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
