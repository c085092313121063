// Serato DJ's analysis data (formats.md §1.3): the payloads of the `Serato Autotags`,
// `Serato BeatGrid` and `Serato Markers2` GEOB objects, their FLAC/Ogg/MP4 text encoding, and a
// reader for what a file already holds (BPM lock, cues) so hand-set values are kept.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harmony/export.hpp"
#include "harmony/song_map.hpp"

namespace harmony::tags::serato {

/// `Serato Autotags`: 01 01, then "%.2f" BPM, "%.3f" auto-gain, "%.3f" gain dB, each NUL-terminated.
std::string autotags(const SongMap& map);

/// `Serato BeatGrid` (big-endian): 01 00, u32 n, n-1 markers {f32 position_s, u32 beats to the
/// next}, a terminal {f32 position_s, f32 bpm}, a footer byte. Positions are Song Map times plus
/// `offset_s` (Serato's timeline, target_time_offset_s). Empty without beats or tempo.
std::string beatgrid(const SongMap& map, double offset_s);

/// `Serato Markers2`: 01 01 + base64 (LF every 72 characters) of 01 01, a COLOR entry, one CUE
/// per section or phrase start (`cues`, named like the other DJ exports: "Chorus B"; or "Start"
/// at the first downbeat without sections or with CueSource::kNone), up to 8, and BPMLOCK 0, then
/// NUL. The "Start" cue follows `trust_downbeats` (bar_anchor_s); the BeatGrid's first marker is
/// the grid's first beat either way (it carries no bar phase).
std::string markers2(const SongMap& map, double offset_s, bool trust_downbeats = true,
                     CueSource cues = CueSource::kSections);

/// The FLAC / Ogg / MP4 text form of a GEOB: base64 (no padding, LF every 72 characters) of
/// "application/octet-stream\0" "\0" "<name>\0" <payload>.
std::string text_value(const std::string& geob_name, const std::string& payload);

/// Vorbis comment field names (FLAC) and MP4 freeform atom names of the GEOB objects.
std::string vorbis_field(const std::string& geob_name);  // "Serato BeatGrid" -> "SERATO_BEATGRID"
std::string mp4_atom(const std::string& geob_name);      // "Serato BeatGrid" -> "----:com.serato.dj:beatgrid"

/// What an existing `Serato Markers2` payload says (cues set by hand, the BPM lock).
struct Markers2Info {
    bool bpm_lock = false;
    int cues = 0;
    int loops = 0;
};
std::optional<Markers2Info> parse_markers2(const std::string& payload);

/// The payload inside a text value (the inverse of text_value); nullopt when malformed.
std::optional<std::string> payload_of_text_value(const std::string& value);

std::string base64(const std::string& bytes, bool pad, int line_length);
std::optional<std::string> unbase64(const std::string& text);

}  // namespace harmony::tags::serato
