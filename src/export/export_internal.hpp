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
Result<std::string> render_rekordbox(const std::vector<SongMap>& maps, const ExportOptions& options);
Result<std::string> render_traktor(const std::vector<SongMap>& maps, const ExportOptions& options);
Result<std::string> render_m3u(const std::vector<SongMap>& maps, const ExportOptions& options);
Result<std::string> render_chordpro(const std::vector<SongMap>& maps);

/// printf-style formatting with a fixed number of decimals ("%.*f"), locale-independent digits.
std::string fixed(double v, int decimals);

/// XML attribute/text escaping (& < > " ' and control characters dropped).
std::string xml_escape(std::string_view s);

/// The key of a map in a notation, or "" when the map has no key.
std::string key_text(const SongMap& map, KeyNotation notation);

/// Absolute, lexically normal form of a path (no filesystem access beyond the current directory).
std::string absolute_path(const std::string& path);

/// The file name without directory and extension ("Song" for "/music/Song.mp3").
std::string title_of(const SongMap& map);

}  // namespace harmony::exporters

namespace harmony::exporters {
/// The M3U order (indices into maps): harmonic-mixing steps within the BPM tolerance.
std::vector<size_t> harmonic_order(const std::vector<SongMap>& maps, double tolerance_pct);
}  // namespace harmony::exporters
