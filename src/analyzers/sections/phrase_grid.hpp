// DJ phrase grids (8/16/32 bars) counted from the section starts, on the downbeats: the phrase
// boundaries DJs mix on (what rekordbox's phrase analysis shows). A pure function of the sections
// and the downbeats; the sections analyzer stores the grids in the Song Map and the DJ exports
// recompute them for maps that lack them (written before schema 2.1.0).
#pragma once

#include <vector>

#include "harmony/song_map.hpp"

namespace harmony::sections {

/// The grid lengths the Song Map carries.
inline constexpr int kDjPhraseLengths[] = {8, 16, 32};

/// The phrase grid of `bars` bars: for each section, its first downbeat (the first at or after the
/// section start less a quarter bar) starts a phrase, then every `bars`-th downbeat after it that
/// lies before the next section's start (less a quarter bar). Sections without a downbeat give no
/// phrase; a downbeat already taken by the previous section is not repeated. Empty without
/// downbeats or sections, or when bars < 1.
PhraseGrid dj_phrase_grid(const std::vector<Section>& sections, const std::vector<double>& downbeats_s, int bars);

/// The grids of kDjPhraseLengths; empty when there are no downbeats or no sections.
std::vector<PhraseGrid> dj_phrase_grids(const std::vector<Section>& sections, const std::vector<double>& downbeats_s);

/// The downbeats of a map: its downbeats part, else the beats whose bar position is 1.
std::vector<double> map_downbeats(const SongMap& map);

}  // namespace harmony::sections
