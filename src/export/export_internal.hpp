// Internals shared by the export renderers (one file per format in src/export/).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harmony/export.hpp"

namespace harmony::exporters {

Result<std::string> render_json(const std::vector<SongMap>& maps);
Result<std::string> render_csv(const std::vector<SongMap>& maps, const ExportOptions& options);
Result<std::string> render_jams(const std::vector<SongMap>& maps);
Result<std::string> render_mirex_beats(const std::vector<SongMap>& maps);
Result<std::string> render_mirex_chords(const std::vector<SongMap>& maps);
Result<std::string> render_mirex_sections(const std::vector<SongMap>& maps);
Result<std::string> render_rekordbox(const std::vector<SongMap>& maps, const ExportOptions& options);
Result<std::string> render_traktor(const std::vector<SongMap>& maps, const ExportOptions& options);
Result<std::string> render_m3u(const std::vector<SongMap>& maps, const ExportOptions& options);
Result<std::string> render_chordpro(const std::vector<SongMap>& maps);
Result<std::string> render_midi(const std::vector<SongMap>& maps);
Result<std::string> render_mixxx(const std::vector<SongMap>& maps, const ExportOptions& options);
Result<std::string> render_enginedj(const std::vector<SongMap>& maps, const ExportOptions& options);

/// printf-style formatting with a fixed number of decimals ("%.*f"), locale-independent digits.
std::string fixed(double v, int decimals);

/// XML attribute/text escaping (& < > " ' and control characters dropped).
std::string xml_escape(std::string_view s);

/// The key of a map in a notation, or "" when the map has no key.
std::string key_text(const SongMap& map, KeyNotation notation);

/// Absolute, lexically normal form of a path (no filesystem access beyond the current directory).
std::string absolute_path(const std::string& path);

/// The title tag, else the file name without directory and extension ("Song" for "/music/Song.mp3").
std::string title_of(const SongMap& map);

/// A named cue point of the DJ exports.
struct Cue {
    double start_s;
    std::string name;
    bool section_start = true;  // the cue starts a section (gets a hot-cue pad first)
};
/// Cues at section or phrase starts ("Chorus B": function and repetition letter), or a single
/// "Start" at the bar anchor (bar_anchor_s: the first downbeat when `trust_downbeats`, else the
/// first beat) when the map has no sections (or cues is kNone). The DJ phrase grids
/// (kPhrases8/16/32) name a section's first phrase after the section and the following ones
/// "Chorus B 2", "Chorus B 3"... (the phrase's number in the section); a map without the grid
/// (written before schema 2.1.0) gets it computed from its sections and downbeats.
std::vector<Cue> cue_points(const SongMap& map, CueSource cues, bool trust_downbeats);

/// At most `pads` of `cues` for the hot-cue pads of a format: all of them when they fit, else the
/// section starts first (in time order), then the other cues in time order while pads are left;
/// the result is in time order.
std::vector<Cue> hot_cues(const std::vector<Cue>& cues, size_t pads);

/// One cue per key change ("Key 9A" in `notation` at the start of each key segment after the
/// first); empty when the key part has a single segment. DJ formats have one key per track, so
/// the changes go out as memory cues (rekordbox) and cues without a hot-cue pad (Traktor).
std::vector<Cue> key_change_cues(const SongMap& map, KeyNotation notation);

/// The exported location of a map's file: absolute, then rewritten by options.path_map.
std::string export_path(const SongMap& map, const ExportOptions& options);

/// The meter DJ software gets (ExportOptions::min_meter_confidence, force_four_four) and the
/// beat-in-bar count it implies.
struct DjMeter {
    std::string label = "4/4";
    int beats_per_bar = 4;
};
DjMeter dj_meter(const SongMap& map, const ExportOptions& options);

/// Crates from folders: (name, indices into maps) per directory holding tracks, named by the
/// directory's path below the folders' common ancestor; empty when every track is in one folder.
std::vector<std::pair<std::string, std::vector<size_t>>> folder_playlists(const std::vector<SongMap>& maps);

/// The key in the notation a DJ target shows (options.dj_key_notation, else `fallback`).
std::string dj_key(const SongMap& map, const ExportOptions& options, KeyNotation fallback);

}  // namespace harmony::exporters

namespace harmony::exporters {
/// The M3U order (indices into maps): harmonic-mixing steps within the BPM tolerance.
std::vector<size_t> harmonic_order(const std::vector<SongMap>& maps, double tolerance_pct);
}  // namespace harmony::exporters
