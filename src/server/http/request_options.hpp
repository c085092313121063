// Harmony service — analysis options as the API receives them (a JSON body's "only"/"params", or
// the query string of an upload). Defined in router.cpp; declared here so that the fuzz targets
// (tests/fuzz) reach them.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "harmony/engine.hpp"

namespace harmony::server::http {

/// Options of an analysis: {"only":[...]|"a,b", "params":{"a.b":value}} from JSON.
Result<AnalysisRequest> options_from_json(const nlohmann::json& j);

/// Options from the query string: only=tempo,key and param=tempo.min_bpm=85 (repeatable).
Result<AnalysisRequest> options_from_query(const std::multimap<std::string, std::string>& q);

}  // namespace harmony::server::http
