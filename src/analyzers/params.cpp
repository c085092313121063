#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cassert>
#include <type_traits>

#include "analyzers/analyzer.hpp"

namespace harmony::analyzers {

namespace {
/// The value of `name` as a T. A missing name or another type is a programmer error (an analyzer
/// reading a parameter it did not declare), caught by the registry test that builds every analyzer
/// with its defaults; in a release build it reads as T{} rather than throwing across the boundary.
template <class T>
T get_as(const std::map<std::string, ParamValue>& values, const std::string& name) {
    auto it = values.find(name);
    if (it == values.end()) {
        assert(false && "analyzer reads an undeclared parameter");
        return T{};
    }
    if (const T* v = std::get_if<T>(&it->second)) return *v;
    if constexpr (std::is_same_v<T, double>)
        if (const auto* i = std::get_if<std::int64_t>(&it->second)) return static_cast<double>(*i);
    assert(false && "analyzer reads a parameter as another type");
    return T{};
}
}  // namespace

double ParamSet::get_double(const std::string& name) const noexcept {
    return get_as<double>(values_, name);
}
std::int64_t ParamSet::get_int(const std::string& name) const noexcept {
    return get_as<std::int64_t>(values_, name);
}
bool ParamSet::get_bool(const std::string& name) const noexcept {
    return get_as<bool>(values_, name);
}
std::string ParamSet::get_string(const std::string& name) const {
    return get_as<std::string>(values_, name);
}

Result<ParamSet> resolve_params(const AnalyzerInfo& info, const std::map<std::string, std::string>& overrides) {
    std::map<std::string, ParamValue> values;
    for (const auto& spec : info.params) values[spec.name] = spec.default_value;
    for (const auto& [name, text] : overrides) {
        const ParamSpec* spec = nullptr;
        for (const auto& s : info.params)
            if (s.name == name) spec = &s;
        if (spec == nullptr)
            return make_error(ErrorCode::kInvalidArgument, "unknown parameter '" + info.id + "." + name + "'");
        const std::string where = "parameter '" + info.id + "." + name + "'";
        switch (spec->type) {
            case ParamType::kBool:
                if (text == "true" || text == "1" || text == "yes")
                    values[name] = true;
                else if (text == "false" || text == "0" || text == "no")
                    values[name] = false;
                else
                    return make_error(ErrorCode::kInvalidArgument,
                                      where + " expects true or false, got '" + text + "'");
                break;
            case ParamType::kInt:
            case ParamType::kDouble: {
                errno = 0;
                char* end = nullptr;
                const double v = std::strtod(text.c_str(), &end);
                if (text.empty() || end == nullptr || *end != '\0' || errno != 0 || !std::isfinite(v))
                    return make_error(ErrorCode::kInvalidArgument, where + " expects a number, got '" + text + "'");
                if (spec->type == ParamType::kInt && v != std::floor(v))
                    return make_error(ErrorCode::kInvalidArgument, where + " expects an integer, got '" + text + "'");
                if (v < spec->min || v > spec->max)
                    return make_error(ErrorCode::kInvalidArgument, where + " must be in [" + std::to_string(spec->min) +
                                                                       ", " + std::to_string(spec->max) + "], got " +
                                                                       text);
                if (spec->type == ParamType::kInt)
                    values[name] = static_cast<std::int64_t>(v);
                else
                    values[name] = v;
                break;
            }
            case ParamType::kString:
                if (!spec->choices.empty()) {
                    bool found = false;
                    for (const auto& c : spec->choices) found = found || c == text;
                    if (!found) {
                        std::string all;
                        for (const auto& c : spec->choices) all += (all.empty() ? "" : ", ") + c;
                        return make_error(ErrorCode::kInvalidArgument, where + " must be one of: " + all);
                    }
                }
                values[name] = text;
                break;
        }
    }
    return ParamSet(std::move(values));
}

}  // namespace harmony::analyzers
