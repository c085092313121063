// Key notation tables (../shared/docs/formats.md §2.4). Camelot: C major = 8B, A minor = 8A;
// each fifth up adds 1. Open Key = ((Camelot + 4) mod 12) + 1 with d/m for major/minor.
#include <array>
#include <string>

#include "core/key_notation.hpp"
#include "harmony/engine.hpp"

namespace harmony {

namespace {
constexpr std::array<const char*, 12> kNames = {"C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"};

int camelot_number(int pitch_class, bool minor) {
    // Major: C(0) -> 8; each semitone up is 7 fifths -> +7 on the wheel. Minor: A(9) -> 8.
    const int ref = minor ? 9 : 0;
    const int steps = ((pitch_class - ref) % 12 + 12) % 12;
    return ((8 - 1 + 7 * steps) % 12) + 1;
}
}  // namespace

std::string camelot_for(int pitch_class, bool minor) {
    return std::to_string(camelot_number(pitch_class, minor)) + (minor ? "A" : "B");
}

std::string open_key_for(int pitch_class, bool minor) {
    const int ok = ((camelot_number(pitch_class, minor) + 4) % 12) + 1;
    return std::to_string(ok) + (minor ? "m" : "d");
}

namespace core {

std::string pitch_class_name(int pitch_class) {
    return kNames[static_cast<size_t>(((pitch_class % 12) + 12) % 12)];
}

KeyName make_key_name(int pitch_class, bool minor) {
    KeyName k;
    k.pitch_class = ((pitch_class % 12) + 12) % 12;
    k.tonic = pitch_class_name(k.pitch_class);
    k.mode = minor ? "minor" : "major";
    k.label = k.tonic + " " + k.mode;
    k.camelot = camelot_for(k.pitch_class, minor);
    k.open_key = open_key_for(k.pitch_class, minor);
    return k;
}

std::vector<std::string> compatible_camelot(int pitch_class, bool minor) {
    const int n = camelot_number(pitch_class, minor);
    const char* letter = minor ? "A" : "B";
    const char* other = minor ? "B" : "A";
    auto wrap = [](int v) { return ((v - 1 + 12) % 12) + 1; };
    return {std::to_string(n) + letter, std::to_string(wrap(n - 1)) + letter, std::to_string(wrap(n + 1)) + letter,
            std::to_string(n) + other};
}

}  // namespace core
}  // namespace harmony
