// JSON form of each Song Map part (writer and reader), reached through the part traits
// (pipeline/parts.hpp) so the map's writer and reader never list the parts themselves.
#pragma once

#include <nlohmann/json.hpp>

#include "harmony/song_map.hpp"

namespace harmony::serialize {

nlohmann::json part_to_json(const Tempo& v);
nlohmann::json part_to_json(const Beats& v);
nlohmann::json part_to_json(const Downbeats& v);
nlohmann::json part_to_json(const Meter& v);
nlohmann::json part_to_json(const Key& v);
nlohmann::json part_to_json(const Loudness& v);
nlohmann::json part_to_json(const Chords& v);
nlohmann::json part_to_json(const Sections& v);
nlohmann::json part_to_json(const Notes& v);
nlohmann::json part_to_json(const Lyrics& v);
nlohmann::json part_to_json(const Stems& v);

// Readers: the text was validated against the schema first; a missing member keeps the default.
void part_from_json(const nlohmann::json& j, Tempo& v);
void part_from_json(const nlohmann::json& j, Beats& v);
void part_from_json(const nlohmann::json& j, Downbeats& v);
void part_from_json(const nlohmann::json& j, Meter& v);
void part_from_json(const nlohmann::json& j, Key& v);
void part_from_json(const nlohmann::json& j, Loudness& v);
void part_from_json(const nlohmann::json& j, Chords& v);
void part_from_json(const nlohmann::json& j, Sections& v);
void part_from_json(const nlohmann::json& j, Notes& v);
void part_from_json(const nlohmann::json& j, Lyrics& v);
void part_from_json(const nlohmann::json& j, Stems& v);

}  // namespace harmony::serialize
