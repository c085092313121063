// Song Map <-> JSON (the edge). The shape is described by schemas/song_map.schema.json.
#pragma once

#include <nlohmann/json.hpp>

#include "harmony/error.hpp"
#include "harmony/song_map.hpp"

namespace harmony::serialize {

nlohmann::json to_json_value(const SongMap& map);

/// Validates a JSON value against the embedded Song Map schema; the error lists the first
/// violations with their JSON pointers.
Result<void> validate(const nlohmann::json& value);

/// The schema text compiled into the library (identical to schemas/song_map.schema.json).
const char* schema_text();

}  // namespace harmony::serialize
