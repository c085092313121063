// Harmony — exports of Song Maps to the formats DJ software and MIR tools read
// (../shared/docs/formats.md). Used by the CLI (`--export`, `harmony library export`) and the HTTP
// service (`GET /v1/jobs/{id}/export/{format}`).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harmony/error.hpp"
#include "harmony/song_map.hpp"

namespace harmony {

enum class ExportFormat {
    kJson,          // Song Map JSON (one map: an object; several: an array)
    kCsv,           // one row per track
    kJams,          // JAMS 0.3 (tempo, beat, key_mode, chord, segment_open, note_midi annotations)
    kMirexBeats,    // "time\n" per beat (mir_eval .beats); several maps: concatenated with headers refused
    kMirexChords,   // "start\tend\tlabel\n" (.lab)
    kRekordboxXml,  // DJ_PLAYLISTS / COLLECTION / TRACK with TEMPO beat grid and POSITION_MARK cues
    kTraktorNml,    // NML COLLECTION ENTRY with TEMPO, MUSICAL_KEY, AutoGrid CUE_V2
    kM3u,           // extended M3U playlist in harmonic-mixing order
    kChordPro,      // ChordPro lead sheet: chords over bars (a grid per section), one map per file
};

enum class KeyNotation { kStandard, kCamelot, kOpenKey };

struct ExportOptions {
    KeyNotation key_notation = KeyNotation::kStandard;  // for CSV, M3U titles and tags
    double playlist_bpm_tolerance_pct = 6.0;            // M3U: max BPM step between neighbours
};

/// "json", "csv", "jams", "beats", "lab", "rekordbox", "traktor", "m3u" (case-insensitive).
Result<ExportFormat> parse_export_format(std::string_view name);
std::string_view export_format_name(ExportFormat format);
std::string_view export_content_type(ExportFormat format);    // e.g. "application/xml"
std::string_view export_file_extension(ExportFormat format);  // e.g. ".xml"

/// Renders one or more Song Maps. Errors: kInvalidArgument when the format needs a part the maps
/// lack (e.g. MIREX beats without beats) or takes exactly one map.
Result<std::string> export_song_maps(const std::vector<SongMap>& maps, ExportFormat format,
                                     const ExportOptions& options = {});

/// "standard" ("Am", "F#": ID3 TKEY / rekordbox Tonality spelling), "camelot" ("8A"), "openkey" ("1m").
Result<KeyNotation> parse_key_notation(std::string_view name);

/// The map's key in a notation; empty when the map has no key (or no key part).
std::string format_key(const SongMap& map, KeyNotation notation);

/// A 1-10 energy rating for sorting and playlists, derived from integrated loudness, loudness
/// range and tempo (src/export/README.md gives the formula; it is not Mixed In Key's Energy).
/// nullopt when the map has no loudness part or is silent.
std::optional<int> energy_level(const SongMap& map);

/// Parses Song Map JSON (as written by to_json) back into the typed map; validates first.
Result<SongMap> song_map_from_json(const std::string& json_text);

}  // namespace harmony
