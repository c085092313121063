#include "analyzers/chords/chord_labels.hpp"

#include <algorithm>
#include <cctype>

#include "core/key_notation.hpp"

namespace harmony::analyzers::chords {

namespace {

Error bad(std::string_view what, std::string_view text) {
    return make_error(ErrorCode::kInvalidArgument, std::string(what) + ": '" + std::string(text) + "'");
}

// Root spelling: a letter and any number of '#' / 'b'.
std::optional<int> parse_root(std::string_view s, size_t& pos) {
    static constexpr int kLetter[7] = {9, 11, 0, 2, 4, 5, 7};  // A B C D E F G
    if (pos >= s.size() || s[pos] < 'A' || s[pos] > 'G') return std::nullopt;
    int pc = kLetter[s[pos] - 'A'];
    ++pos;
    while (pos < s.size() && (s[pos] == '#' || s[pos] == 'b')) {
        pc += s[pos] == '#' ? 1 : -1;
        ++pos;
    }
    return ((pc % 12) + 12) % 12;
}

int degree_interval(std::string_view d) {
    static const std::array<std::string_view, 12> kDeg = {"1",  "b2", "2",  "b3", "3",  "4",
                                                          "b5", "5",  "#5", "6",  "b7", "7"};
    for (size_t i = 0; i < kDeg.size(); ++i)
        if (kDeg[i] == d) return static_cast<int>(i);
    if (d == "#4") return 6;
    if (d == "bb7") return 9;
    if (d == "9") return 2;
    if (d == "b9") return 1;
    if (d == "#9") return 3;
    if (d == "11") return 5;
    if (d == "13") return 9;
    return -1;
}

}  // namespace

const std::vector<Quality>& qualities() {
    static const std::vector<Quality> q = {
        {"maj", "", {0, 4, 7}},
        {"min", "m", {0, 3, 7}},
        {"7", "7", {0, 4, 7, 10}},
        {"maj7", "maj7", {0, 4, 7, 11}},
        {"min7", "m7", {0, 3, 7, 10}},
        {"dim", "dim", {0, 3, 6}},
        {"dim7", "dim7", {0, 3, 6, 9}},
        {"hdim7", "m7b5", {0, 3, 6, 10}},
        {"aug", "aug", {0, 4, 8}},
        {"sus2", "sus2", {0, 2, 7}},
        {"sus4", "sus4", {0, 5, 7}},
        {"maj6", "6", {0, 4, 7, 9}},
        {"min6", "m6", {0, 3, 7, 9}},
        {"9", "9", {0, 4, 7, 10, 14}},
        {"maj9", "maj9", {0, 4, 7, 11, 14}},
        {"min9", "m9", {0, 3, 7, 10, 14}},
        {"minmaj7", "m(maj7)", {0, 3, 7, 11}},
        {"sus4(b7)", "7sus4", {0, 5, 7, 10}},
    };
    return q;
}

int quality_index(std::string_view harte) {
    if (harte.empty()) return 0;
    const auto& q = qualities();
    for (size_t i = 0; i < q.size(); ++i)
        if (q[i].harte == harte) return static_cast<int>(i);
    return -1;
}

std::string note_name(int pitch_class) {
    return core::pitch_class_name(((pitch_class % 12) + 12) % 12);
}

std::string bass_degree(int interval) {
    static const std::array<const char*, 12> kDeg = {"1", "b2", "2", "b3", "3", "4", "b5", "5", "#5", "6", "b7", "7"};
    return kDeg[static_cast<size_t>(((interval % 12) + 12) % 12)];
}

std::string to_harte(const Chord& c) {
    if (c.is_none()) return "N";
    std::string s = note_name(c.root) + ":" + std::string(qualities()[static_cast<size_t>(c.quality)].harte);
    if (c.bass_interval % 12 != 0) s += "/" + bass_degree(c.bass_interval);
    return s;
}

std::string to_display(const Chord& c) {
    if (c.is_none()) return "N.C.";
    std::string s = note_name(c.root) + std::string(qualities()[static_cast<size_t>(c.quality)].display);
    if (c.bass_interval % 12 != 0) s += "/" + note_name(c.root + c.bass_interval);
    return s;
}

std::string to_chordpro(const Chord& c) {
    return "[" + to_display(c) + "]";
}

Result<Chord> parse_harte(std::string_view label) {
    if (label == "N" || label == "X") return Chord{};
    size_t pos = 0;
    const auto root = parse_root(label, pos);
    if (!root) return bad("not a Harte chord label (root)", label);
    Chord c;
    c.root = *root;
    std::string_view quality, bass;
    std::string_view rest = label.substr(pos);
    const size_t slash = rest.rfind('/');
    if (slash != std::string_view::npos && rest.find(')', slash) == std::string_view::npos) {
        bass = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
    }
    if (!rest.empty()) {
        if (rest[0] != ':') return bad("not a Harte chord label (expected ':')", label);
        quality = rest.substr(1);
    }
    c.quality = quality_index(quality);
    if (c.quality < 0) return bad("unknown chord quality", label);
    if (slash != std::string_view::npos && bass.empty()) return bad("empty bass degree", label);
    if (!bass.empty()) {
        c.bass_interval = degree_interval(bass);
        if (c.bass_interval < 0) return bad("unknown bass degree", label);
    }
    return c;
}

Result<Chord> parse_display(std::string_view name) {
    if (name == "N.C." || name == "N" || name == "NC") return Chord{};
    size_t pos = 0;
    const auto root = parse_root(name, pos);
    if (!root) return bad("not a chord name (root)", name);
    Chord c;
    c.root = *root;
    std::string_view rest = name.substr(pos);
    std::string_view bass;
    const size_t slash = rest.rfind('/');
    if (slash != std::string_view::npos) {
        bass = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
    }
    c.quality = -1;
    const auto& q = qualities();
    for (size_t i = 0; i < q.size(); ++i)
        if (q[i].display == rest) c.quality = static_cast<int>(i);
    if (c.quality < 0) return bad("unknown chord suffix", name);
    if (slash != std::string_view::npos && bass.empty()) return bad("empty bass note", name);
    if (!bass.empty()) {
        size_t bp = 0;
        const auto b = parse_root(bass, bp);
        if (!b || bp != bass.size()) return bad("not a chord name (bass note)", name);
        c.bass_interval = ((*b - c.root) % 12 + 12) % 12;
    }
    return c;
}

Result<Chord> parse_chordpro(std::string_view text) {
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    return parse_display(text);
}

std::optional<Vocabulary> vocabulary_from_name(std::string_view name) {
    if (name == "majmin") return Vocabulary::kMajMin;
    if (name == "sevenths") return Vocabulary::kSevenths;
    if (name == "full") return Vocabulary::kFull;
    return std::nullopt;
}

std::string_view vocabulary_name(Vocabulary v) {
    switch (v) {
        case Vocabulary::kMajMin:
            return "majmin";
        case Vocabulary::kSevenths:
            return "sevenths";
        case Vocabulary::kFull:
            break;
    }
    return "full";
}

const std::vector<ChordClass>& model_classes() {
    static const std::vector<ChordClass> c = [] {
        std::vector<ChordClass> v;
        for (int q = 0; q < static_cast<int>(qualities().size()); ++q) v.push_back({q, 0});
        const int maj = 0, min = 1, dom = 2, maj7 = 3, min7 = 4;
        for (int b : {4, 7, 10, 11}) v.push_back({maj, b});
        for (int b : {3, 7, 10}) v.push_back({min, b});
        for (int b : {4, 7, 10}) v.push_back({dom, b});
        for (int b : {4, 7, 11}) v.push_back({maj7, b});
        for (int b : {7, 10}) v.push_back({min7, b});
        return v;
    }();
    return c;
}

namespace {
// Quality reductions: every quality to maj/min, and to the five seventh-chord qualities.
int to_majmin(int q) {
    const auto& iv = qualities()[static_cast<size_t>(q)].intervals;
    return std::find(iv.begin(), iv.end(), 3) != iv.end() ? 1 : 0;  // a minor third: min
}
int to_sevenths(int q) {
    switch (q) {
        case 0:
        case 1:
        case 2:
        case 3:
        case 4:
            return q;
        case 7:
            return 4;  // hdim7 -> min7
        case 13:
        case 17:
            return 2;  // 9, 7sus4 -> 7
        case 14:
            return 3;  // maj9 -> maj7
        case 15:
            return 4;  // min9 -> min7
        default:
            return to_majmin(q);
    }
}
}  // namespace

const std::vector<ChordClass>& vocabulary_classes(Vocabulary v) {
    static const std::vector<ChordClass> majmin = {{0, 0}, {1, 0}};
    static const std::vector<ChordClass> sevenths = {{0, 0}, {1, 0}, {2, 0}, {3, 0}, {4, 0}};
    switch (v) {
        case Vocabulary::kMajMin:
            return majmin;
        case Vocabulary::kSevenths:
            return sevenths;
        case Vocabulary::kFull:
            break;
    }
    return model_classes();
}

int reduce_class(Vocabulary v, int model_class) {
    const ChordClass& c = model_classes()[static_cast<size_t>(model_class)];
    switch (v) {
        case Vocabulary::kMajMin:
            return to_majmin(c.quality);
        case Vocabulary::kSevenths:
            return to_sevenths(c.quality);
        case Vocabulary::kFull:
            break;
    }
    return model_class;
}

}  // namespace harmony::analyzers::chords
