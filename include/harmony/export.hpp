// Harmony — exports of Song Maps to the formats DJ software and MIR tools read
// (../shared/docs/formats.md). Used by the CLI (`--export`, `harmony library export`) and the HTTP
// service (`GET /v1/jobs/{id}/export/{format}`).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harmony/error.hpp"
#include "harmony/song_map.hpp"

namespace harmony {

enum class ExportFormat {
    kJson,           // Song Map JSON (one map: an object; several: an array)
    kCsv,            // one row per track
    kJams,           // JAMS 0.3 (tempo, beat, key_mode, chord, segment_open, note_midi annotations)
    kMirexBeats,     // "time\n" per beat (mir_eval .beats); several maps: concatenated with headers refused
    kMirexChords,    // "start\tend\tlabel\n" (.lab)
    kMirexSections,  // "start\tend\tlabel\n" of the sections (.sections.lab, mir_eval load_labeled_intervals)
    kRekordboxXml,   // DJ_PLAYLISTS / COLLECTION / TRACK with TEMPO beat grid and POSITION_MARK cues
    kTraktorNml,     // NML COLLECTION ENTRY with TEMPO, MUSICAL_KEY, AutoGrid CUE_V2
    kM3u,            // extended M3U playlist in harmonic-mixing order
    kChordPro,       // ChordPro lead sheet: chords over bars (a grid per section), one map per file
    kMidi,           // Standard MIDI File: melody and bass tracks, tempo map from the beats; one map per file
    kMixxxDb,        // Mixxx library database (SQLite): tracks, beat grids, keys (with changes), cues, crates
    kEngineDj,       // Engine DJ library database (Database2/m.db): tracks, beat grids, keys, cues, playlists
};

enum class KeyNotation { kStandard, kCamelot, kOpenKey };

/// Which points become named cues in the DJ exports (rekordbox POSITION_MARK, Traktor CUE_V2):
/// section starts, phrase starts (every phrase of the sections part: the analyzer's own 4/8-bar
/// phrases), the starts of the DJ phrase grid of 8, 16 or 32 bars (Sections::phrase_grid: counted
/// from each section start), or none beyond the grid start. Without a sections part every choice
/// gives the single "Start" cue. Where a format has fewer hot-cue pads than cues, the section
/// starts get pads first, then the other cues in time order (src/export/README.md).
enum class CueSource { kSections, kPhrases, kNone, kPhrases8, kPhrases16, kPhrases32 };

/// Where the DJ exports put beat 1 of the bars (rekordbox `Battito`, Traktor's AutoGrid marker,
/// the "Start" cue): at the analysed downbeats (kTrust), on the first beat of the grid as DJ
/// software does when it knows no better (kBeat1: the DJ sets the bar), or the downbeats only when
/// their calibrated confidence (`downbeats.confidence`) reaches ExportOptions::min_downbeat_confidence
/// (kAuto).
enum class DownbeatPolicy { kAuto, kTrust, kBeat1 };

struct ExportOptions {
    KeyNotation key_notation = KeyNotation::kStandard;  // for CSV, M3U titles and tags
    double playlist_bpm_tolerance_pct = 6.0;            // M3U: max BPM step between neighbours
    CueSource cues = CueSource::kSections;              // rekordbox / Traktor cue points
    /// Key notation of rekordbox `Tonality` and Traktor `INFO KEY`; nullopt: each target's own
    /// (rekordbox: standard "Am", Traktor: Open Key "1m").
    std::optional<KeyNotation> dj_key_notation;
    /// DJ exports (rekordbox Metro): a meter other than 4/4 goes out only when the meter's
    /// confidence reaches this (CDJs count bars of 4); below it, 4/4.
    double min_meter_confidence = 0.8;
    bool force_four_four = false;  // always 4/4
    DownbeatPolicy downbeats = DownbeatPolicy::kAuto;
    /// kAuto: the downbeats go out when the probability that they are right (downbeats.confidence,
    /// calibrated: beats/README.md) reaches this; below it, beat 1 is the first beat.
    double min_downbeat_confidence = 0.5;
    /// Path prefixes rewritten in exported locations ("/home/me/Music" -> "/Volumes/USB/Music"),
    /// for libraries used on another machine; the first matching prefix (whole path components) wins.
    std::vector<std::pair<std::string, std::string>> path_map;
    /// Engine DJ: the "Engine Library" folder the database goes into (its `Database2/m.db`),
    /// rewritten by path_map like the tracks; track paths are written relative to it when both are
    /// on the same root (Engine's own convention), else absolute. Empty: absolute paths.
    std::string engine_library_dir;
};

/// "sections", "phrases", "phrases8", "phrases16", "phrases32", "none".
Result<CueSource> parse_cue_source(std::string_view name);

/// "auto", "trust", "beat1".
Result<DownbeatPolicy> parse_downbeat_policy(std::string_view name);

/// Whether a DJ export places bar lines at the map's downbeats under `policy` (kAuto: when the
/// map has downbeats whose confidence reaches `min_confidence`). False without downbeats.
bool downbeats_trusted(const SongMap& map, DownbeatPolicy policy, double min_confidence);

/// The grid time DJ software takes as beat 1 of a bar: the first downbeat when trusted, else the
/// grid's first beat.
double bar_anchor_s(const SongMap& map, bool trusted);

/// DJ software whose timeline an export must match.
enum class DjTarget { kRekordbox, kTraktor, kSerato };

/// Seconds to add to Song Map times (which start after gapless trimming) for a target's timeline
/// (formats.md §0). rekordbox (since 1.5.4) and Serato decode MP3s without applying LAME gapless
/// info, so their timeline starts `audio.gapless_trim_frames` earlier (~25 ms for LAME); Traktor
/// applies it (0). Non-MP3 files: 0.
double target_time_offset_s(const SongMap& map, DjTarget target);

/// Whether the DJ software an export format feeds can play the map's file (rekordbox: MP3,
/// AAC/M4A/ALAC, WAV, AIFF, FLAC; Traktor and Engine DJ: also Ogg Vorbis; none plays Opus, WMA, APE...).
/// `why` gets the reason when it cannot. Formats that are not DJ libraries: always true.
bool target_can_play(ExportFormat format, const SongMap& map, std::string* why = nullptr);

/// The one-line human summary of a map for a terminal: "120.00 BPM · A minor (8A) · 4/4 · −8.1 LUFS"
/// (parts the map lacks are left out; "no tempo", "no key", "silent" when the analyzer said so).
std::string summary_text(const SongMap& map);

/// "Artist - Title" display name: the file's tags, else its file name without extension.
std::string display_title(const SongMap& map);

/// `path` rewritten by the first matching prefix of `path_map` (unchanged when none matches).
std::string map_export_path(const std::string& path, const std::vector<std::pair<std::string, std::string>>& path_map);

/// Parses "FROM=TO" (a --path-map argument).
Result<std::pair<std::string, std::string>> parse_path_map(std::string_view text);

/// "json", "csv", "jams", "beats", "lab", "sections-lab", "rekordbox", "traktor", "m3u", "midi" (case-insensitive).
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
