// Harmony — public description of analyzers and their parameters.
// Each parameter is declared once (name, doc, type, range, default); that declaration drives
// validation, the CLI (`harmony analyzers`, `--param id.name=value`), the HTTP API and cache keys.
#pragma once

#include <string>
#include <vector>

#include "harmony/song_map.hpp"

namespace harmony {

enum class ParamType { kBool, kInt, kDouble, kString };

struct ParamSpec {
    std::string name;
    std::string doc;
    ParamType type = ParamType::kDouble;
    ParamValue default_value;
    double min = 0.0;  // numeric types only
    double max = 0.0;
    std::vector<std::string> choices;  // string type only; empty = free text
};

struct AnalyzerInfo {
    std::string id;                       // "tempo"
    int version = 1;                      // bumped whenever the output can change
    std::string summary;                  // one line
    std::vector<std::string> depends_on;  // analyzer ids that must run first
    std::vector<std::string> produces;    // Song Map parts written ("tempo", "beats", ...)
    std::vector<ParamSpec> params;
};

}  // namespace harmony
