// Chord labels: the qualities the chord analyzer knows, Harte syntax (`A:min7`, `F:maj/3`, `N`),
// display names (`Am7`, `F/A`) and ChordPro (`[Am7]`), with conversions both ways, and the three
// vocabularies (majmin, sevenths, full) as sets of (quality, bass interval) classes.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harmony/error.hpp"

namespace harmony::analyzers::chords {

/// One chord quality: Harte shorthand, display suffix, intervals above the root (semitones, 0..23).
struct Quality {
    std::string_view harte;    // "min7", "sus4(b7)"
    std::string_view display;  // "m7", "7sus4"
    std::vector<int> intervals;
};

/// Every quality, in a fixed order (the model's class order uses these indices).
const std::vector<Quality>& qualities();
/// Index of a quality by Harte shorthand ("" or "maj" = major), or -1.
int quality_index(std::string_view harte);

/// A parsed chord. root < 0 means no chord (N).
struct Chord {
    int root = -1;          // pitch class, C = 0
    int quality = 0;        // index into qualities()
    int bass_interval = 0;  // semitones above the root of the bass note (0 = root position)
    bool is_none() const { return root < 0; }
    int bass_pc() const { return root < 0 ? -1 : (root + bass_interval) % 12; }
    bool operator==(const Chord&) const = default;
};

/// "C", "Db", ... (the Song Map's spelling, as for keys).
std::string note_name(int pitch_class);
/// Harte degree of a bass interval (4 -> "3", 3 -> "b3", 10 -> "b7").
std::string bass_degree(int interval);

std::string to_harte(const Chord& c);     // "A:min7", "F:maj/3", "N"
std::string to_display(const Chord& c);   // "Am7", "F/A", "N.C."
std::string to_chordpro(const Chord& c);  // "[Am7]", "[F/A]", "[N.C.]"

/// Parses a Harte label made of a root, a known shorthand and an optional bass degree
/// ("A:min7", "C", "F:maj/3", "N"); other labels (degree lists) are an error.
Result<Chord> parse_harte(std::string_view label);
/// Parses a display name ("Am7", "F/A", "N.C.").
Result<Chord> parse_display(std::string_view name);
/// Parses a ChordPro chord ("[Am7]" or "Am7").
Result<Chord> parse_chordpro(std::string_view text);

/// A vocabulary: the (quality, bass interval) classes a chord can take (12 roots each) plus N.
struct ChordClass {
    int quality = 0;
    int bass_interval = 0;
};
enum class Vocabulary { kMajMin, kSevenths, kFull };
std::optional<Vocabulary> vocabulary_from_name(std::string_view name);
std::string_view vocabulary_name(Vocabulary v);

/// The classes of the acoustic model's output (the full vocabulary), in model order.
const std::vector<ChordClass>& model_classes();
/// Index of a model class within a vocabulary's own class list; every model class maps to one
/// (maj7 -> maj in majmin, an inversion -> root position in sevenths, ...).
const std::vector<ChordClass>& vocabulary_classes(Vocabulary v);
int reduce_class(Vocabulary v, int model_class);

}  // namespace harmony::analyzers::chords
