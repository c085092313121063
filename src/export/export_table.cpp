// Song Map JSON (one object, or an array for several maps) and CSV (one row per track).
#include <nlohmann/json.hpp>

#include "export/export_internal.hpp"
#include "serialize/song_map_json.hpp"

namespace harmony::exporters {

Result<std::string> render_json(const std::vector<SongMap>& maps) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& m : maps) {
        nlohmann::json j = serialize::to_json_value(m);
        if (auto v = serialize::validate(j); !v) return v.error();
        out.push_back(std::move(j));
    }
    const nlohmann::json& doc = maps.size() == 1 ? out[0] : out;
    return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

namespace {

// RFC 4180: quote a field when it holds a comma, quote, CR or LF; double the quotes inside.
std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

}  // namespace

Result<std::string> render_csv(const std::vector<SongMap>& maps, const ExportOptions& options) {
    static const char* kHeader =
        "path,title,duration_s,bpm,tempo_confidence,tempo_stable,first_beat_s,first_downbeat_s,meter,key,"
        "key_label,camelot,open_key,key_confidence,integrated_lufs,loudness_range_lu,true_peak_dbtp,"
        "max_momentary_lufs,max_short_term_lufs,replaygain_track_gain_db,energy,sample_rate_hz,channels,codec,"
        "bit_rate,content_hash,truncated,artist";
    std::string out = std::string(kHeader) + "\r\n";
    for (const auto& m : maps) {
        std::vector<std::string> f;
        f.push_back(csv_field(m.audio.path));
        f.push_back(csv_field(title_of(m)));
        f.push_back(fixed(m.audio.duration_s, 3));
        const bool has_bpm = m.tempo && m.tempo->bpm;
        f.push_back(has_bpm ? fixed(*m.tempo->bpm, 2) : "");
        f.push_back(m.tempo ? fixed(m.tempo->confidence, 3) : "");
        f.push_back(m.tempo ? (m.tempo->stable ? "true" : "false") : "");
        const bool has_beats = m.beats && !m.beats->times_s.empty();
        f.push_back(has_beats ? fixed(m.beats->grid.first_beat_s, 3) : "");
        f.push_back(has_beats ? fixed(m.beats->grid.first_downbeat_s, 3) : "");
        f.push_back(m.meter ? csv_field(m.meter->label) : "");
        const bool has_key = m.key && m.key->key;
        f.push_back(csv_field(format_key(m, options.key_notation)));
        f.push_back(has_key ? csv_field(m.key->key->label) : "");
        f.push_back(has_key ? m.key->key->camelot : "");
        f.push_back(has_key ? m.key->key->open_key : "");
        f.push_back(m.key ? fixed(m.key->confidence, 3) : "");
        const bool loud = m.loudness && !m.loudness->silent;
        f.push_back(loud ? fixed(m.loudness->integrated_lufs, 2) : "");
        f.push_back(loud ? fixed(m.loudness->loudness_range_lu, 2) : "");
        f.push_back(m.loudness ? fixed(m.loudness->true_peak_dbtp, 2) : "");
        f.push_back(loud ? fixed(m.loudness->max_momentary_lufs, 2) : "");
        f.push_back(loud ? fixed(m.loudness->max_short_term_lufs, 2) : "");
        f.push_back(loud ? fixed(m.loudness->replaygain_track_gain_db, 2) : "");
        const auto energy = energy_level(m);
        f.push_back(energy ? std::to_string(*energy) : "");
        f.push_back(std::to_string(m.audio.sample_rate_hz));
        f.push_back(std::to_string(m.audio.channels));
        f.push_back(csv_field(m.audio.codec));
        f.push_back(std::to_string(m.audio.bit_rate));
        f.push_back(m.audio.content_hash);
        f.push_back(m.audio.truncated ? "true" : "false");
        f.push_back(csv_field(m.audio.tags.artist));
        for (size_t i = 0; i < f.size(); ++i) out += (i ? "," : "") + f[i];
        out += "\r\n";
    }
    return out;
}

}  // namespace harmony::exporters
