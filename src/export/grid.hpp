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
    int beat_in_bar = 1;    // 1 = downbeat (from the map's bar positions)
    size_t beat_index = 0;  // index of the section's first beat in the map's beats
};

/// From the map's beats: a constant grid gives one section (grid.first_beat_s, grid.bpm). A
/// variable one is cut where the tempo changes: the fewest runs of at least 8 beats, each a
/// straight grid, that fit the beats to their timing noise (segmented least squares with a cost
/// per section, beats far off their section's line left out, one continuous grid through the
/// sections so each section's last beat lands on the next one's start). Empty without beats or
/// tempo.
std::vector<GridSection> grid_sections(const SongMap& map);

/// "file://localhost/..." percent-encoded absolute path (rekordbox Location).
std::string rekordbox_location(const std::string& path);

}  // namespace harmony::exporters
