#include <cmath>
#include "serialize/song_map_json.hpp"

#include "harmony/engine.hpp"
#include "harmony/version.hpp"
#include "pipeline/parts.hpp"
#include "serialize/part_json.hpp"

namespace harmony::serialize {

using nlohmann::json;

namespace {

json param_json(const ParamValue& v) {
    return std::visit([](const auto& x) { return json(x); }, v);
}

json prov_json(const Provenance& p) {
    json params = json::object();
    for (const auto& [k, v] : p.params) params[k] = param_json(v);
    return {{"analyzer", p.analyzer}, {"version", p.version}, {"params", params}, {"elapsed_s", p.elapsed_s}};
}

json votes_json(const std::vector<EstimatorVote>& votes) {
    json a = json::array();
    for (const auto& v : votes)
        a.push_back({{"name", v.name}, {"value", v.value}, {"score", v.score}, {"note", v.note}});
    return a;
}

json key_name_json(const KeyName& k) {
    return {{"tonic", k.tonic}, {"pitch_class", k.pitch_class}, {"mode", k.mode},
            {"label", k.label}, {"camelot", k.camelot},         {"open_key", k.open_key}};
}

json tempo_json(const Tempo& t) {
    json j;
    j["bpm"] = t.bpm ? json(*t.bpm) : json(nullptr);
    if (!t.bpm) j["no_tempo_reason"] = t.no_tempo_reason;
    j["confidence"] = t.confidence;
    j["range_bpm"] = {t.range_min_bpm, t.range_max_bpm};
    j["stable"] = t.stable;
    j["alternatives"] = json::array();
    for (const auto& a : t.alternatives)
        j["alternatives"].push_back({{"bpm", a.bpm}, {"probability", a.probability}, {"relation", a.relation}});
    j["curve"] = json::array();
    for (const auto& p : t.curve) j["curve"].push_back({p.time_s, p.bpm});
    j["estimators"] = votes_json(t.estimators);
    j["decision"] = t.decision;
    j["provenance"] = prov_json(t.provenance);
    return j;
}

json beats_json(const Beats& b) {
    return {{"times_s", b.times_s},
            {"positions", b.positions},
            {"confidence", b.confidence},
            {"grid",
             {{"constant", b.grid.constant},
              {"first_beat_s", b.grid.first_beat_s},
              {"first_downbeat_s", b.grid.first_downbeat_s},
              {"bpm", b.grid.bpm}}},
            {"provenance", prov_json(b.provenance)}};
}

json key_json(const Key& k) {
    json j;
    j["key"] = k.key ? key_name_json(*k.key) : json(nullptr);
    // Flattened copies of the main key for consumers that want one level (tonic, mode, camelot...).
    if (k.key) {
        j["tonic"] = k.key->tonic;
        j["pitch_class"] = k.key->pitch_class;
        j["mode"] = k.key->mode;
        j["label"] = k.key->label;
        j["camelot"] = k.key->camelot;
        j["open_key"] = k.key->open_key;
    } else {
        j["no_key_reason"] = k.no_key_reason;
    }
    j["confidence"] = k.confidence;
    j["candidates"] = json::array();
    for (const auto& c : k.candidates) j["candidates"].push_back({{"key", key_name_json(c.key)}, {"score", c.score}});
    j["compatible_camelot"] = k.compatible_camelot;
    j["tuning"] = {{"a4_hz", k.tuning.a4_hz}, {"cents", k.tuning.cents}, {"confidence", k.tuning.confidence}};
    j["segments"] = json::array();
    for (const auto& s : k.segments)
        j["segments"].push_back(
            {{"start_s", s.start_s}, {"end_s", s.end_s}, {"key", key_name_json(s.key)}, {"confidence", s.confidence}});
    j["modal"] = k.modal ? json{{"tonic", k.modal->tonic},
                                {"mode", k.modal->mode},
                                {"label", k.modal->label},
                                {"confidence", k.modal->confidence}}
                         : json(nullptr);
    j["estimators"] = votes_json(k.estimators);
    j["provenance"] = prov_json(k.provenance);
    return j;
}

json loudness_json(const Loudness& l) {
    return {{"integrated_lufs", l.integrated_lufs},
            {"loudness_range_lu", l.loudness_range_lu},
            {"true_peak_dbtp", l.true_peak_dbtp},
            {"sample_peak_dbfs", l.sample_peak_dbfs},
            {"max_momentary_lufs", l.max_momentary_lufs},
            {"max_short_term_lufs", l.max_short_term_lufs},
            {"replaygain_track_gain_db", l.replaygain_track_gain_db},
            {"replaygain_track_peak", l.replaygain_track_peak},
            {"silent", l.silent},
            {"confidence", l.confidence},
            {"provenance", prov_json(l.provenance)}};
}

json notes_json(const std::vector<Note>& notes) {
    json a = json::array();
    for (const auto& n : notes) a.push_back({n.onset_s, n.offset_s, n.pitch_midi, n.velocity, n.confidence});
    return a;
}

}  // namespace

json part_to_json(const Tempo& v) {
    return tempo_json(v);
}
json part_to_json(const Beats& v) {
    return beats_json(v);
}
json part_to_json(const Downbeats& v) {
    return {{"times_s", v.times_s}, {"confidence", v.confidence}, {"provenance", prov_json(v.provenance)}};
}
json part_to_json(const Meter& v) {
    json c = json::array();
    for (const auto& x : v.candidates) c.push_back({{"label", x.label}, {"probability", x.probability}});
    return {{"label", v.label},           {"numerator", v.numerator}, {"denominator", v.denominator},
            {"confidence", v.confidence}, {"candidates", c},          {"provenance", prov_json(v.provenance)}};
}
json part_to_json(const Key& v) {
    return key_json(v);
}
json part_to_json(const Loudness& v) {
    return loudness_json(v);
}
json part_to_json(const Chords& v) {
    json s = json::array();
    for (const auto& c : v.segments) {
        json row = json::array({c.start_s, c.end_s, c.label, c.confidence});
        if (!c.name.empty()) {
            json ru = json::array();
            for (const auto& r : c.runners_up) ru.push_back(json::array({r.label, r.probability}));
            row.push_back(
                {{"name", c.name}, {"root", c.root}, {"quality", c.quality}, {"bass", c.bass}, {"runners_up", ru}});
        }
        s.push_back(std::move(row));
    }
    json j = {{"segments", s}, {"confidence", v.confidence}, {"provenance", prov_json(v.provenance)}};
    if (!v.vocabulary.empty()) j["vocabulary"] = v.vocabulary;
    return j;
}
json part_to_json(const Sections& v) {
    auto rows = [](const std::vector<Section>& list) {
        json s = json::array();
        for (const auto& c : list) s.push_back({c.start_s, c.end_s, c.label, c.confidence, c.function, c.bars});
        return s;
    };
    json j = {{"segments", rows(v.segments)}, {"confidence", v.confidence}, {"provenance", prov_json(v.provenance)}};
    if (!v.phrases.empty()) j["phrases"] = rows(v.phrases);
    if (!v.phrase_grid.empty()) {
        json grids = json::array();
        for (const auto& g : v.phrase_grid) {
            json starts = json::array();
            for (const auto& p : g.starts) starts.push_back({p.time_s, p.bar, p.section});
            grids.push_back({{"bars", g.bars}, {"starts", starts}});
        }
        j["phrase_grid"] = grids;
    }
    return j;
}
json part_to_json(const Notes& v) {
    json f0 = json::array();
    for (float hz : v.melody_f0.f0_hz) f0.push_back(std::round(hz * 10.0f) / 10.0);  // 0.1 Hz steps
    return {{"melody", notes_json(v.melody)},
            {"bass", notes_json(v.bass)},
            {"melody_f0", {{"start_s", v.melody_f0.start_s}, {"hop_s", v.melody_f0.hop_s}, {"f0_hz", f0}}},
            {"confidence", v.confidence},
            {"provenance", prov_json(v.provenance)}};
}
json part_to_json(const Lyrics& v) {
    json lines = json::array();
    for (const auto& l : v.lines) lines.push_back({l.start_s, l.end_s, l.text});
    return {{"language", v.language},
            {"lines", lines},
            {"confidence", v.confidence},
            {"provenance", prov_json(v.provenance)}};
}
json part_to_json(const Stems& v) {
    json s = json::array();
    for (const auto& x : v.stems) {
        json e = {{"name", x.name},       {"duration_s", x.duration_s}, {"energy_db", x.energy_db},
                  {"quality", x.quality}, {"model", x.model},           {"model_version", x.model_version}};
        if (!x.file.empty()) e["file"] = x.file;
        if (x.clipped_samples > 0) e["clipped_samples"] = x.clipped_samples;
        s.push_back(std::move(e));
    }
    json j = {{"stems", s},
              {"model", v.model},
              {"model_version", v.model_version},
              {"sample_rate_hz", v.sample_rate_hz},
              {"channels", v.channels},
              {"confidence", v.confidence},
              {"provenance", prov_json(v.provenance)}};
    if (!v.format.empty()) j["format"] = v.format;
    return j;
}

json to_json_value(const SongMap& m) {
    json j;
    j["schema_version"] = kSongMapSchemaVersion;
    j["harmony_version"] = kVersion;
    const AudioInfo& a = m.audio;
    j["audio"] = {{"path", a.path},
                  {"container", a.container},
                  {"codec", a.codec},
                  {"sample_rate_hz", a.sample_rate_hz},
                  {"channels", a.channels},
                  {"bit_rate", a.bit_rate},
                  {"duration_s", a.duration_s},
                  {"file_size_bytes", a.file_size_bytes},
                  {"content_hash", a.content_hash},
                  {"analysis_rate_hz", a.analysis_rate_hz},
                  {"truncated", a.truncated},
                  {"warnings", a.warnings}};
    if (a.gapless_trim_frames > 0) j["audio"]["gapless_trim_frames"] = a.gapless_trim_frames;
    if (!a.tags.empty()) {
        json t = json::object();
        const std::pair<const char*, const std::string*> fields[] = {
            {"title", &a.tags.title}, {"artist", &a.tags.artist},   {"album", &a.tags.album},
            {"genre", &a.tags.genre}, {"comment", &a.tags.comment}, {"bpm", &a.tags.bpm},
            {"key", &a.tags.key}};
        for (const auto& [name, value] : fields)
            if (!value->empty()) t[name] = *value;
        j["audio"]["tags"] = std::move(t);
    }
    for (const auto& t : pipeline::parts())
        if (t.present(m)) j[std::string(t.name)] = t.to_json(m);
    j["elapsed_s"] = m.elapsed_s;
    return j;
}

}  // namespace harmony::serialize

namespace harmony {

Result<std::string> to_json(const SongMap& map, int indent) {
    const nlohmann::json j = serialize::to_json_value(map);
    if (auto v = serialize::validate(j); !v) return v.error();
    return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<void> validate_song_map_json(const std::string& json_text) {
    auto j = nlohmann::json::parse(json_text, nullptr, false);
    if (j.is_discarded()) return make_error(ErrorCode::kSchemaViolation, "not valid JSON");
    return serialize::validate(j);
}

}  // namespace harmony
