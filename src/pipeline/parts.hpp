// The Song Map parts and their traits, in one table: each part's JSON member name, its fragment of
// the published schema, its JSON reader and writer, how its times shift (segments of long files),
// its provenance, and how it moves between maps. The engine, the segment merge and the serializer
// reach a part through this table, never by switching on its name.
#pragma once

#include <array>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

#include "harmony/song_map.hpp"

namespace harmony::pipeline {

enum class Part : std::uint8_t {
    kTempo,
    kBeats,
    kDownbeats,
    kMeter,
    kKey,
    kLoudness,
    kChords,
    kSections,
    kNotes,
    kLyrics,
    kStems,
};
inline constexpr std::size_t kPartCount = 11;

struct PartTraits {
    Part part;
    std::string_view name;            // the JSON member and the name in AnalyzerInfo::produces
    std::string_view schema_pointer;  // JSON pointer of its fragment in schemas/song_map.schema.json
    bool (*present)(const SongMap&);
    Provenance* (*provenance)(SongMap&);  // nullptr when the part is absent
    void (*shift_times)(SongMap&, double seconds);
    void (*move_to)(SongMap& from, SongMap& to);  // moves the part (if present) from one map to another
    void (*reset)(SongMap&);
    nlohmann::json (*to_json)(const SongMap&);  // only called when present
    void (*from_json)(const nlohmann::json&, SongMap&);
};

/// Every part, in Part order.
const std::array<PartTraits, kPartCount>& parts();
inline const PartTraits& traits(Part p) {
    return parts()[static_cast<std::size_t>(p)];
}
/// Looks a part up by name (registration and tests; the engine itself never needs it).
const PartTraits* find_part(std::string_view name);

/// Shifts every time in the map by `seconds` (a segment's results to file time).
void shift_times(SongMap& map, double seconds);

}  // namespace harmony::pipeline
