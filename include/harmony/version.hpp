#pragma once

namespace harmony {
inline constexpr const char* kVersion = "0.1.0";
/// Version of the Song Map JSON form (schemas/song_map.schema.json). Bumped on any change of shape.
inline constexpr const char* kSongMapSchemaVersion = "2.1.0";
}  // namespace harmony
