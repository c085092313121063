// JSON -> Song Map: the inverse of to_json_value (song_map_json.cpp). The text is validated against
// the published schema first, so the reader can rely on the shape; optional members are read
// leniently (a missing member keeps the struct's default).
#include <nlohmann/json.hpp>

#include "harmony/export.hpp"
#include "pipeline/parts.hpp"
#include "serialize/part_json.hpp"
#include "serialize/song_map_json.hpp"

namespace harmony {

namespace {

using nlohmann::json;

template <typename T>
void get_to(const json& j, const char* name, T& out) {
    auto it = j.find(name);
    if (it != j.end() && !it->is_null()) out = it->get<T>();
}

ParamValue param_from(const json& v) {
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_number_integer()) return v.get<std::int64_t>();
    if (v.is_number()) return v.get<double>();
    if (v.is_string()) return v.get<std::string>();
    return v.dump();
}

Provenance prov_from(const json& j) {
    Provenance p;
    if (!j.is_object()) return p;
    get_to(j, "analyzer", p.analyzer);
    get_to(j, "version", p.version);
    get_to(j, "elapsed_s", p.elapsed_s);
    if (auto it = j.find("params"); it != j.end() && it->is_object())
        for (const auto& [k, v] : it->items()) p.params[k] = param_from(v);
    return p;
}

Provenance prov_of(const json& part) {
    auto it = part.find("provenance");
    return it == part.end() ? Provenance{} : prov_from(*it);
}

std::vector<EstimatorVote> votes_from(const json& part) {
    std::vector<EstimatorVote> out;
    auto it = part.find("estimators");
    if (it == part.end() || !it->is_array()) return out;
    for (const auto& v : *it) {
        EstimatorVote e;
        get_to(v, "name", e.name);
        get_to(v, "value", e.value);
        get_to(v, "score", e.score);
        get_to(v, "note", e.note);
        out.push_back(std::move(e));
    }
    return out;
}

KeyName key_name_from(const json& j) {
    KeyName k;
    get_to(j, "tonic", k.tonic);
    get_to(j, "pitch_class", k.pitch_class);
    get_to(j, "mode", k.mode);
    get_to(j, "label", k.label);
    get_to(j, "camelot", k.camelot);
    get_to(j, "open_key", k.open_key);
    return k;
}

Tempo tempo_from(const json& j) {
    Tempo t;
    if (auto it = j.find("bpm"); it != j.end() && it->is_number()) t.bpm = it->get<double>();
    get_to(j, "no_tempo_reason", t.no_tempo_reason);
    get_to(j, "confidence", t.confidence);
    if (auto it = j.find("range_bpm"); it != j.end() && it->is_array() && it->size() == 2) {
        t.range_min_bpm = (*it)[0].get<double>();
        t.range_max_bpm = (*it)[1].get<double>();
    }
    get_to(j, "stable", t.stable);
    if (auto it = j.find("alternatives"); it != j.end() && it->is_array())
        for (const auto& a : *it) {
            TempoAlternative x;
            get_to(a, "bpm", x.bpm);
            get_to(a, "probability", x.probability);
            get_to(a, "relation", x.relation);
            t.alternatives.push_back(std::move(x));
        }
    if (auto it = j.find("curve"); it != j.end() && it->is_array())
        for (const auto& p : *it)
            if (p.is_array() && p.size() >= 2) t.curve.push_back({p[0].get<double>(), p[1].get<double>()});
    t.estimators = votes_from(j);
    get_to(j, "decision", t.decision);
    t.provenance = prov_of(j);
    return t;
}

Beats beats_from(const json& j) {
    Beats b;
    get_to(j, "times_s", b.times_s);
    get_to(j, "positions", b.positions);
    get_to(j, "confidence", b.confidence);
    if (auto it = j.find("grid"); it != j.end() && it->is_object()) {
        get_to(*it, "constant", b.grid.constant);
        get_to(*it, "first_beat_s", b.grid.first_beat_s);
        get_to(*it, "first_downbeat_s", b.grid.first_downbeat_s);
        get_to(*it, "bpm", b.grid.bpm);
    }
    b.provenance = prov_of(j);
    return b;
}

Key key_from(const json& j) {
    Key k;
    if (auto it = j.find("key"); it != j.end() && it->is_object()) k.key = key_name_from(*it);
    get_to(j, "no_key_reason", k.no_key_reason);
    get_to(j, "confidence", k.confidence);
    if (auto it = j.find("candidates"); it != j.end() && it->is_array())
        for (const auto& c : *it) {
            KeyCandidate x;
            if (auto kk = c.find("key"); kk != c.end()) x.key = key_name_from(*kk);
            get_to(c, "score", x.score);
            k.candidates.push_back(std::move(x));
        }
    get_to(j, "compatible_camelot", k.compatible_camelot);
    if (auto it = j.find("tuning"); it != j.end() && it->is_object()) {
        get_to(*it, "a4_hz", k.tuning.a4_hz);
        get_to(*it, "cents", k.tuning.cents);
        get_to(*it, "confidence", k.tuning.confidence);
    }
    if (auto it = j.find("segments"); it != j.end() && it->is_array())
        for (const auto& s : *it) {
            KeySegment x;
            get_to(s, "start_s", x.start_s);
            get_to(s, "end_s", x.end_s);
            if (auto kk = s.find("key"); kk != s.end()) x.key = key_name_from(*kk);
            get_to(s, "confidence", x.confidence);
            k.segments.push_back(std::move(x));
        }
    if (auto it = j.find("modal"); it != j.end() && it->is_object()) {
        ModalKey m;
        get_to(*it, "tonic", m.tonic);
        get_to(*it, "mode", m.mode);
        get_to(*it, "label", m.label);
        get_to(*it, "confidence", m.confidence);
        k.modal = std::move(m);
    }
    k.estimators = votes_from(j);
    k.provenance = prov_of(j);
    return k;
}

Loudness loudness_from(const json& j) {
    Loudness l;
    get_to(j, "integrated_lufs", l.integrated_lufs);
    get_to(j, "loudness_range_lu", l.loudness_range_lu);
    get_to(j, "true_peak_dbtp", l.true_peak_dbtp);
    get_to(j, "sample_peak_dbfs", l.sample_peak_dbfs);
    get_to(j, "max_momentary_lufs", l.max_momentary_lufs);
    get_to(j, "max_short_term_lufs", l.max_short_term_lufs);
    get_to(j, "replaygain_track_gain_db", l.replaygain_track_gain_db);
    get_to(j, "replaygain_track_peak", l.replaygain_track_peak);
    get_to(j, "silent", l.silent);
    get_to(j, "confidence", l.confidence);
    l.provenance = prov_of(j);
    return l;
}

// [start, end, label, confidence] rows (chords, sections).
template <typename Seg>
std::vector<Seg> segments_from(const json& part, const char* name) {
    std::vector<Seg> out;
    auto it = part.find(name);
    if (it == part.end() || !it->is_array()) return out;
    for (const auto& r : *it) {
        if (!r.is_array() || r.size() < 3) continue;
        Seg s;
        s.start_s = r[0].get<double>();
        s.end_s = r[1].get<double>();
        s.label = r[2].get<std::string>();
        if (r.size() > 3 && r[3].is_number()) s.confidence = r[3].get<double>();
        out.push_back(std::move(s));
    }
    return out;
}

// [start, end, label, confidence, function, bars] rows (sections; the last two optional).
std::vector<Section> sections_from(const json& part, const char* name) {
    std::vector<Section> out = segments_from<Section>(part, name);
    const auto it = part.find(name);
    for (size_t i = 0; i < out.size() && it != part.end(); ++i) {
        const auto& r = (*it)[i];
        if (r.size() > 4 && r[4].is_string()) out[i].function = r[4].get<std::string>();
        if (r.size() > 5 && r[5].is_number_integer()) out[i].bars = r[5].get<int>();
    }
    return out;
}

std::vector<Note> notes_from(const json& part, const char* name) {
    std::vector<Note> out;
    auto it = part.find(name);
    if (it == part.end() || !it->is_array()) return out;
    for (const auto& r : *it) {
        if (!r.is_array() || r.size() < 4) continue;
        Note n{r[0].get<double>(), r[1].get<double>(), r[2].get<double>(), r[3].get<double>(), 0.0};
        if (r.size() > 4 && r[4].is_number()) n.confidence = r[4].get<double>();
        out.push_back(n);
    }
    return out;
}

}  // namespace

}  // namespace harmony

namespace harmony::serialize {

using nlohmann::json;

void part_from_json(const json& j, Tempo& v) {
    v = tempo_from(j);
}
void part_from_json(const json& j, Beats& v) {
    v = beats_from(j);
}
void part_from_json(const json& j, Downbeats& d) {
    get_to(j, "times_s", d.times_s);
    get_to(j, "confidence", d.confidence);
    d.provenance = prov_of(j);
}
void part_from_json(const json& j, Meter& x) {
    get_to(j, "label", x.label);
    get_to(j, "numerator", x.numerator);
    get_to(j, "denominator", x.denominator);
    get_to(j, "confidence", x.confidence);
    if (auto c = j.find("candidates"); c != j.end() && c->is_array())
        for (const auto& e : *c) {
            MeterCandidate mc;
            get_to(e, "label", mc.label);
            get_to(e, "probability", mc.probability);
            x.candidates.push_back(std::move(mc));
        }
    x.provenance = prov_of(j);
}
void part_from_json(const json& j, Key& v) {
    v = key_from(j);
}
void part_from_json(const json& j, Loudness& v) {
    v = loudness_from(j);
}
void part_from_json(const json& j, Chords& c) {
    c.segments = segments_from<ChordSegment>(j, "segments");
    // Optional fifth column: display name, root, quality, bass and runners-up.
    if (auto it = j.find("segments"); it != j.end() && it->is_array()) {
        size_t k = 0;
        for (const auto& r : *it) {
            if (!r.is_array() || r.size() < 3) continue;
            if (r.size() > 4 && r[4].is_object() && k < c.segments.size()) {
                auto& seg = c.segments[k];
                const json& d = r[4];
                get_to(d, "name", seg.name);
                get_to(d, "root", seg.root);
                get_to(d, "quality", seg.quality);
                get_to(d, "bass", seg.bass);
                if (auto ru = d.find("runners_up"); ru != d.end() && ru->is_array())
                    for (const auto& x : *ru)
                        if (x.is_array() && x.size() >= 2 && x[0].is_string() && x[1].is_number())
                            seg.runners_up.push_back({x[0].get<std::string>(), x[1].get<double>()});
            }
            ++k;
        }
    }
    get_to(j, "confidence", c.confidence);
    get_to(j, "vocabulary", c.vocabulary);
    c.provenance = prov_of(j);
}
void part_from_json(const json& j, Sections& s) {
    s.segments = sections_from(j, "segments");
    s.phrases = sections_from(j, "phrases");
    if (auto pg = j.find("phrase_grid"); pg != j.end() && pg->is_array())
        for (const auto& g : *pg) {
            if (!g.is_object()) continue;
            PhraseGrid grid;
            get_to(g, "bars", grid.bars);
            if (auto st = g.find("starts"); st != g.end() && st->is_array())
                for (const auto& r : *st)
                    if (r.is_array() && r.size() >= 3 && r[0].is_number() && r[1].is_number_integer() &&
                        r[2].is_number_integer())
                        grid.starts.push_back({r[0].get<double>(), r[1].get<int>(), r[2].get<int>()});
            s.phrase_grid.push_back(std::move(grid));
        }
    get_to(j, "confidence", s.confidence);
    s.provenance = prov_of(j);
}
void part_from_json(const json& j, Notes& n) {
    n.melody = notes_from(j, "melody");
    n.bass = notes_from(j, "bass");
    if (auto f = j.find("melody_f0"); f != j.end() && f->is_object()) {
        get_to(*f, "start_s", n.melody_f0.start_s);
        get_to(*f, "hop_s", n.melody_f0.hop_s);
        if (auto a = f->find("f0_hz"); a != f->end() && a->is_array())
            for (const auto& v : *a) n.melody_f0.f0_hz.push_back(v.is_number() ? v.get<float>() : 0.0f);
    }
    get_to(j, "confidence", n.confidence);
    n.provenance = prov_of(j);
}
void part_from_json(const json& j, Lyrics& l) {
    get_to(j, "language", l.language);
    if (auto li = j.find("lines"); li != j.end() && li->is_array())
        for (const auto& r : *li)
            if (r.is_array() && r.size() >= 3)
                l.lines.push_back({r[0].get<double>(), r[1].get<double>(), r[2].get<std::string>()});
    get_to(j, "confidence", l.confidence);
    l.provenance = prov_of(j);
}
void part_from_json(const json& j, Stems& s) {
    if (auto si = j.find("stems"); si != j.end() && si->is_array())
        for (const auto& e : *si) {
            Stem x;
            get_to(e, "name", x.name);
            get_to(e, "file", x.file);
            get_to(e, "duration_s", x.duration_s);
            get_to(e, "energy_db", x.energy_db);
            get_to(e, "quality", x.quality);
            get_to(e, "model", x.model);
            get_to(e, "model_version", x.model_version);
            get_to(e, "clipped_samples", x.clipped_samples);
            s.stems.push_back(std::move(x));
        }
    get_to(j, "model", s.model);
    get_to(j, "model_version", s.model_version);
    get_to(j, "sample_rate_hz", s.sample_rate_hz);
    get_to(j, "channels", s.channels);
    get_to(j, "format", s.format);
    get_to(j, "confidence", s.confidence);
    s.provenance = prov_of(j);
}

}  // namespace harmony::serialize

namespace harmony {

namespace {

SongMap map_from(const json& j) {
    SongMap m;
    const json& a = j.at("audio");
    get_to(a, "path", m.audio.path);
    get_to(a, "container", m.audio.container);
    get_to(a, "codec", m.audio.codec);
    get_to(a, "sample_rate_hz", m.audio.sample_rate_hz);
    get_to(a, "channels", m.audio.channels);
    get_to(a, "bit_rate", m.audio.bit_rate);
    get_to(a, "duration_s", m.audio.duration_s);
    get_to(a, "file_size_bytes", m.audio.file_size_bytes);
    get_to(a, "content_hash", m.audio.content_hash);
    get_to(a, "analysis_rate_hz", m.audio.analysis_rate_hz);
    get_to(a, "truncated", m.audio.truncated);
    get_to(a, "warnings", m.audio.warnings);
    get_to(a, "gapless_trim_frames", m.audio.gapless_trim_frames);
    if (auto t = a.find("tags"); t != a.end() && t->is_object()) {
        get_to(*t, "title", m.audio.tags.title);
        get_to(*t, "artist", m.audio.tags.artist);
        get_to(*t, "album", m.audio.tags.album);
        get_to(*t, "genre", m.audio.tags.genre);
        get_to(*t, "comment", m.audio.tags.comment);
        get_to(*t, "bpm", m.audio.tags.bpm);
        get_to(*t, "key", m.audio.tags.key);
    }
    for (const auto& t : pipeline::parts())
        if (auto it = j.find(std::string(t.name)); it != j.end() && it->is_object()) t.from_json(*it, m);
    get_to(j, "elapsed_s", m.elapsed_s);
    return m;
}

}  // namespace

Result<SongMap> song_map_from_json(const std::string& json_text) {
    auto j = json::parse(json_text, nullptr, false);
    if (j.is_discarded()) return make_error(ErrorCode::kSchemaViolation, "not valid JSON");
    if (auto v = serialize::validate(j); !v) return v.error();
    try {
        return map_from(j);
    } catch (const std::exception& e) {
        return make_error(ErrorCode::kSchemaViolation, std::string("Song Map JSON: ") + e.what());
    }
}

}  // namespace harmony
