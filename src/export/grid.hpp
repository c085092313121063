// Beat grid sections for DJ exports: one section = a constant tempo from a beat on; several = a
// variable-tempo grid (formats.md §1.1: one TEMPO element per tempo change).
#pragma once

#include <string>
#include <vector>

#include "harmony/song_map.hpp"

namespace harmony::exporters {

struct GridSection {
    double start_s = 0.0;  // a beat time
    double bpm = 0.0;
    int beat_in_bar = 1;  // 1 = downbeat
};

/// From the map's beats: a constant grid gives one section (grid.first_beat_s, grid.bpm); a
/// variable one is split greedily into the longest runs of beats a straight grid fits within
/// `tolerance_s` (each section's BPM lands its last beat exactly on the next section's start).
/// Empty without beats or tempo.
std::vector<GridSection> grid_sections(const SongMap& map, double tolerance_s = 0.012);

/// "file://localhost/..." percent-encoded absolute path (rekordbox Location).
std::string rekordbox_location(const std::string& path);

}  // namespace harmony::exporters
