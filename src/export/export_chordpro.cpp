// ChordPro lead sheet (ChordPro 6): metadata directives, then the chords over bars as grids
// (`{start_of_grid}` ... `| Am . . . | F . G . |`, one cell per beat, `.` = the chord goes on),
// four bars a line; a `{comment}` heading and a new grid at each section once sections exist.
#include <algorithm>
#include <cmath>

#include "export/export_internal.hpp"

namespace harmony::exporters {

namespace {

std::string chord_name(const ChordSegment& c) {
    if (!c.name.empty()) return c.name;
    return c.label == "N" ? std::string("N.C.") : c.label;
}

/// The segment sounding at t (the last one starting at or before it), or nullptr.
const ChordSegment* chord_at(const std::vector<ChordSegment>& segs, double t) {
    auto it = std::upper_bound(segs.begin(), segs.end(), t + 1e-3,
                               [](double v, const ChordSegment& s) { return v < s.start_s; });
    if (it == segs.begin()) return nullptr;
    --it;
    return t < it->end_s ? &*it : nullptr;
}

std::string section_at(const SongMap& m, double t) {
    if (!m.sections) return {};
    for (const auto& s : m.sections->segments)
        if (t + 1e-3 >= s.start_s && t < s.end_s) return s.label;
    return {};
}

}  // namespace

Result<std::string> render_chordpro(const std::vector<SongMap>& maps) {
    if (maps.size() != 1)
        return make_error(ErrorCode::kInvalidArgument,
                          "ChordPro export takes exactly one Song Map (one file per track)");
    const SongMap& m = maps[0];
    if (!m.chords || m.chords->segments.empty())
        return make_error(ErrorCode::kInvalidArgument, "the Song Map has no chords: " + m.audio.path);
    const auto& segs = m.chords->segments;
    std::string out = "{title: " + title_of(m) + "}\n";
    if (m.key && m.key->key) out += "{key: " + key_text(m, KeyNotation::kStandard) + "}\n";
    if (m.tempo && m.tempo->bpm) out += "{tempo: " + fixed(*m.tempo->bpm, 0) + "}\n";
    const int per_bar = m.meter && m.meter->numerator > 0 ? m.meter->numerator : 4;
    if (m.meter && !m.meter->label.empty()) out += "{time: " + m.meter->label + "}\n";
    out += "{comment: chords by Harmony}\n";

    // Bars: from the downbeats when there are any, else the beats in groups of the meter.
    std::vector<double> beats = m.beats ? m.beats->times_s : std::vector<double>{};
    if (beats.size() < 2) {  // no beat grid: one cell per chord
        out += "{start_of_grid}\n|";
        for (const auto& c : segs) out += " " + chord_name(c) + " |";
        out += "\n{end_of_grid}\n";
        return out;
    }
    std::vector<bool> downbeat(beats.size(), false);
    const std::vector<double> dbs = m.downbeats ? m.downbeats->times_s : std::vector<double>{};
    if (!dbs.empty()) {
        for (size_t i = 0; i < beats.size(); ++i)
            downbeat[i] = std::any_of(dbs.begin(), dbs.end(), [&](double d) { return std::abs(d - beats[i]) < 0.02; });
    } else {
        for (size_t i = 0; i < beats.size(); i += static_cast<size_t>(per_bar)) downbeat[i] = true;
    }
    // Cells: one per beat; a bar starts at each downbeat (beats before the first one make a pickup bar).
    std::vector<std::vector<std::string>> bars;
    std::vector<std::string> bar_section;
    std::string last;
    for (size_t i = 0; i < beats.size(); ++i) {
        if (downbeat[i] || bars.empty()) {
            bars.emplace_back();
            bar_section.push_back(section_at(m, beats[i]));
        }
        const ChordSegment* c = chord_at(segs, beats[i]);
        const std::string name = c ? chord_name(*c) : std::string("N.C.");
        bars.back().push_back(name == last ? std::string(".") : name);
        last = name;
    }
    std::string current = "\x01";
    size_t in_line = 0;
    bool open = false;
    for (size_t b = 0; b < bars.size(); ++b) {
        if (bar_section[b] != current) {
            if (open) out += (in_line ? " |\n" : "") + std::string("{end_of_grid}\n");
            current = bar_section[b];
            if (!current.empty()) out += "{comment: " + current + "}\n";
            out += "{start_of_grid}\n";
            open = true;
            in_line = 0;
        }
        if (in_line == 4) {
            out += " |\n";
            in_line = 0;
        }
        if (in_line == 0)
            out += "|";
        else
            out += " |";
        for (const auto& cell : bars[b]) out += " " + cell;
        ++in_line;
    }
    if (open) out += (in_line ? " |\n" : "") + std::string("{end_of_grid}\n");
    return out;
}

}  // namespace harmony::exporters
