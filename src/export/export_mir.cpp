// MIR exports: JAMS 0.3 (formats.md §3.1) and MIREX / mir_eval text files (§3.2): `.beats`
// (one beat time per line, mir_eval load_events) and `.lab` (start end Harte-label, chords).
#include <cmath>
#include <utility>

#include <nlohmann/json.hpp>

#include "analyzers/sections/phrase_grid.hpp"
#include "export/export_internal.hpp"
#include "harmony/version.hpp"

namespace harmony::exporters {

namespace {

using nlohmann::json;

json annotation(const std::string& ns, double duration, json data, const Provenance& p) {
    json tools = std::string("Harmony ") + kVersion + " (" + p.analyzer + " v" + std::to_string(p.version) + ")";
    return {{"namespace", ns},
            {"annotation_metadata",
             {{"corpus", ""},
              {"version", std::to_string(p.version)},
              {"curator", {{"name", ""}, {"email", ""}}},
              {"annotator", {{"name", "Harmony"}, {"analyzer", p.analyzer}}},
              {"annotation_tools", tools},
              {"annotation_rules", ""},
              {"validation", ""},
              {"data_source", "automatic"}}},
            {"data", std::move(data)},
            {"time", 0.0},
            {"duration", duration},
            {"sandbox", json::object()}};
}

json obs(double time, double duration, json value, double confidence) {
    return {{"time", time}, {"duration", duration}, {"value", std::move(value)}, {"confidence", confidence}};
}

Error one_map_only(const char* format) {
    return make_error(ErrorCode::kInvalidArgument,
                      std::string(format) + " export takes exactly one Song Map (one file per track)");
}

}  // namespace

Result<std::string> render_jams(const std::vector<SongMap>& maps) {
    if (maps.size() != 1) return one_map_only("JAMS");
    const SongMap& m = maps[0];
    const double dur = m.audio.duration_s;
    json anns = json::array();
    if (m.tempo && m.tempo->bpm)
        anns.push_back(annotation("tempo", dur, json::array({obs(0.0, dur, *m.tempo->bpm, m.tempo->confidence)}),
                                  m.tempo->provenance));
    if (m.beats && !m.beats->times_s.empty()) {
        json data = json::array();
        for (size_t i = 0; i < m.beats->times_s.size(); ++i) {
            const json pos = i < m.beats->positions.size() ? json(m.beats->positions[i]) : json(nullptr);
            data.push_back(obs(m.beats->times_s[i], 0.0, pos, m.beats->confidence));
        }
        anns.push_back(annotation("beat", dur, std::move(data), m.beats->provenance));
    }
    if (m.key) {
        json data = json::array();
        if (!m.key->segments.empty()) {
            for (const auto& s : m.key->segments)
                data.push_back(obs(s.start_s, s.end_s - s.start_s, s.key.tonic + ":" + s.key.mode, s.confidence));
        } else if (m.key->key) {
            data.push_back(obs(0.0, dur, m.key->key->tonic + ":" + m.key->key->mode, m.key->confidence));
        } else {
            data.push_back(obs(0.0, dur, "N", m.key->confidence));
        }
        anns.push_back(annotation("key_mode", dur, std::move(data), m.key->provenance));
    }
    if (m.chords && !m.chords->segments.empty()) {
        json data = json::array();
        for (const auto& c : m.chords->segments)
            data.push_back(obs(c.start_s, c.end_s - c.start_s, c.label, c.confidence));
        anns.push_back(annotation("chord", dur, std::move(data), m.chords->provenance));
    }
    if (m.sections && !m.sections->segments.empty()) {
        json data = json::array();
        // segment_open: the functional label where there is one ("chorus"), else the letter; the
        // letters and the phrase level go into the annotation's sandbox.
        json letters = json::array(), phrases = json::array();
        for (const auto& s : m.sections->segments) {
            data.push_back(
                obs(s.start_s, s.end_s - s.start_s, s.function.empty() ? s.label : s.function, s.confidence));
            letters.push_back(s.label);
        }
        for (const auto& s : m.sections->phrases)
            phrases.push_back({{"time", s.start_s},
                               {"duration", s.end_s - s.start_s},
                               {"label", s.label},
                               {"function", s.function},
                               {"bars", s.bars}});
        auto a = annotation("segment_open", dur, std::move(data), m.sections->provenance);
        a["sandbox"] = {{"harmony_letters", letters}, {"harmony_phrases", phrases}};
        anns.push_back(std::move(a));
    }
    if (m.notes) {
        // One note_midi annotation per line (sandbox.line names it) and the melody's pitch_contour.
        for (const auto& [line, notes] : {std::pair{"melody", &m.notes->melody}, std::pair{"bass", &m.notes->bass}}) {
            if (notes->empty()) continue;
            json data = json::array();
            for (const auto& n : *notes)
                data.push_back(obs(n.onset_s, n.offset_s - n.onset_s, n.pitch_midi, n.confidence));
            json a = annotation("note_midi", dur, std::move(data), m.notes->provenance);
            a["sandbox"] = {{"line", line}};
            anns.push_back(std::move(a));
        }
        const auto& f0 = m.notes->melody_f0;
        if (!f0.f0_hz.empty()) {
            json data = json::array();
            for (size_t i = 0; i < f0.f0_hz.size(); ++i) {
                const float hz = f0.f0_hz[i];
                if (hz == 0.0f) continue;
                data.push_back(obs(f0.start_s + static_cast<double>(i) * f0.hop_s, 0.0,
                                   {{"index", 0}, {"frequency", std::abs(hz)}, {"voiced", hz > 0.0f}},
                                   m.notes->confidence));
            }
            json a = annotation("pitch_contour", dur, std::move(data), m.notes->provenance);
            a["sandbox"] = {{"line", "melody"}};
            anns.push_back(std::move(a));
        }
    }
    if (m.lyrics && !m.lyrics->lines.empty()) {
        json data = json::array();
        for (const auto& l : m.lyrics->lines)
            data.push_back(obs(l.start_s, l.end_s - l.start_s, l.text, m.lyrics->confidence));
        anns.push_back(annotation("lyrics", dur, std::move(data), m.lyrics->provenance));
    }
    json doc = {{"file_metadata",
                 {{"title", title_of(m)},
                  {"artist", m.audio.tags.artist},
                  {"release", m.audio.tags.album},
                  {"duration", dur},
                  {"identifiers", {{"content_hash", m.audio.content_hash}}},
                  {"jams_version", "0.3.4"}}},
                {"annotations", std::move(anns)},
                {"sandbox", {{"harmony", {{"version", kVersion}, {"path", m.audio.path}}}}}};
    return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<std::string> render_mirex_beats(const std::vector<SongMap>& maps) {
    if (maps.size() != 1) return one_map_only("MIREX .beats");
    const SongMap& m = maps[0];
    if (!m.beats || m.beats->times_s.empty())
        return make_error(ErrorCode::kInvalidArgument, "the Song Map has no beats: " + m.audio.path);
    std::string out;
    for (double t : m.beats->times_s) out += fixed(t, 6) + "\n";
    return out;
}

Result<std::string> render_mirex_chords(const std::vector<SongMap>& maps) {
    if (maps.size() != 1) return one_map_only("MIREX .lab");
    const SongMap& m = maps[0];
    if (!m.chords || m.chords->segments.empty())
        return make_error(ErrorCode::kInvalidArgument, "the Song Map has no chords: " + m.audio.path);
    std::string out;
    for (const auto& c : m.chords->segments)
        out += fixed(c.start_s, 6) + "\t" + fixed(c.end_s, 6) + "\t" + c.label + "\n";
    return out;
}

Result<std::string> render_mirex_sections(const std::vector<SongMap>& maps) {
    if (maps.size() != 1) return one_map_only("MIREX sections .lab");
    const SongMap& m = maps[0];
    if (!m.sections || m.sections->segments.empty())
        return make_error(ErrorCode::kInvalidArgument, "the Song Map has no sections: " + m.audio.path);
    // The repetition letter is the label (what mir_eval's pairwise and boundary scores read).
    std::string out;
    for (const auto& s : m.sections->segments)
        out += fixed(s.start_s, 6) + "\t" + fixed(s.end_s, 6) + "\t" + s.label + "\n";
    return out;
}

namespace {

std::string cue_name(const Section& s) {
    std::string name = s.label;
    if (!s.function.empty()) {
        name = s.function;
        name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
        if (!s.label.empty()) name += " " + s.label;
    }
    return name;
}

int grid_bars(CueSource source) {
    switch (source) {
        case CueSource::kPhrases8:
            return 8;
        case CueSource::kPhrases16:
            return 16;
        case CueSource::kPhrases32:
            return 32;
        default:
            return 0;
    }
}

}  // namespace

std::vector<Cue> cue_points(const SongMap& m, CueSource source, bool trust_downbeats) {
    std::vector<Cue> cues;
    if (m.sections && source != CueSource::kNone) {
        const auto& segs = m.sections->segments;
        if (const int bars = grid_bars(source); bars > 0) {
            PhraseGrid computed;
            const PhraseGrid* grid = nullptr;
            for (const auto& g : m.sections->phrase_grid)
                if (g.bars == bars) grid = &g;
            if (grid == nullptr) {  // a map written before schema 2.1.0
                computed = sections::dj_phrase_grid(segs, sections::map_downbeats(m), bars);
                grid = &computed;
            }
            int last_section = -1, number = 0;
            for (const auto& p : grid->starts) {
                if (p.section < 0 || static_cast<size_t>(p.section) >= segs.size()) continue;
                number = p.section == last_section ? number + 1 : 1;
                last_section = p.section;
                std::string name = cue_name(segs[static_cast<size_t>(p.section)]);
                if (number > 1) name += (name.empty() ? "" : " ") + std::to_string(number);
                cues.push_back({p.time_s, name, number == 1});
            }
        } else {
            const bool phrases = source == CueSource::kPhrases && !m.sections->phrases.empty();
            size_t next_section = 0;  // phrases: the ones starting a section come first on the pads
            for (const auto& s : phrases ? m.sections->phrases : segs) {
                bool starts = true;
                if (phrases) {
                    while (next_section < segs.size() && segs[next_section].start_s < s.start_s - 1e-6) ++next_section;
                    starts = next_section < segs.size() && std::abs(segs[next_section].start_s - s.start_s) < 1e-6;
                }
                cues.push_back({s.start_s, cue_name(s), starts});
            }
        }
    }
    if (cues.empty() && m.beats && !m.beats->times_s.empty())
        cues.push_back({bar_anchor_s(m, trust_downbeats), "Start"});
    return cues;
}

std::vector<Cue> hot_cues(const std::vector<Cue>& cues, size_t pads) {
    if (cues.size() <= pads) return cues;
    std::vector<bool> keep(cues.size(), false);
    size_t n = 0;
    for (int pass = 0; pass < 2; ++pass)
        for (size_t i = 0; i < cues.size() && n < pads; ++i)
            if (!keep[i] && (pass == 1 || cues[i].section_start)) {
                keep[i] = true;
                ++n;
            }
    std::vector<Cue> out;
    for (size_t i = 0; i < cues.size(); ++i)
        if (keep[i]) out.push_back(cues[i]);
    return out;
}

}  // namespace harmony::exporters
