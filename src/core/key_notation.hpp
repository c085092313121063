#pragma once

#include <string>
#include <vector>

#include "harmony/song_map.hpp"

namespace harmony::core {

/// Rekordbox/Mixxx enharmonic spelling: C Db D Eb E F F# G Ab A Bb B.
std::string pitch_class_name(int pitch_class);

/// Fills every notation of a key (standard, Camelot, Open Key).
KeyName make_key_name(int pitch_class, bool minor);

/// Harmonic-mixing neighbours on the Camelot wheel: same, -1, +1, relative.
std::vector<std::string> compatible_camelot(int pitch_class, bool minor);

}  // namespace harmony::core
