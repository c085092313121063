// Export dispatch, format names and the helpers the renderers share.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "export/export_internal.hpp"
#include "harmony/engine.hpp"

namespace harmony {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

struct FormatRow {
    ExportFormat format;
    const char* name;
    const char* content_type;
    const char* extension;
};

constexpr FormatRow kFormats[] = {
    {ExportFormat::kJson, "json", "application/json", ".json"},
    {ExportFormat::kCsv, "csv", "text/csv; charset=utf-8", ".csv"},
    {ExportFormat::kJams, "jams", "application/json", ".jams"},
    {ExportFormat::kMirexBeats, "beats", "text/plain; charset=utf-8", ".beats"},
    {ExportFormat::kMirexChords, "lab", "text/plain; charset=utf-8", ".lab"},
    {ExportFormat::kMirexSections, "sections-lab", "text/plain; charset=utf-8", ".sections.lab"},
    {ExportFormat::kRekordboxXml, "rekordbox", "application/xml", ".xml"},
    {ExportFormat::kTraktorNml, "traktor", "application/xml", ".nml"},
    {ExportFormat::kM3u, "m3u", "audio/x-mpegurl", ".m3u"},
    {ExportFormat::kChordPro, "chordpro", "text/plain; charset=utf-8", ".cho"},
    {ExportFormat::kMidi, "midi", "audio/midi", ".mid"},
    {ExportFormat::kMixxxDb, "mixxx", "application/vnd.sqlite3", ".sqlite"},
    {ExportFormat::kEngineDj, "enginedj", "application/vnd.sqlite3", ".db"},
};

const FormatRow& row_of(ExportFormat f) {
    for (const auto& r : kFormats)
        if (r.format == f) return r;
    return kFormats[0];
}

double clamp01(double v) {
    return std::clamp(v, 0.0, 1.0);
}

}  // namespace

Result<ExportFormat> parse_export_format(std::string_view name) {
    const std::string n = lower(name);
    for (const auto& r : kFormats)
        if (n == r.name) return r.format;
    // Accepted aliases.
    if (n == "rekordbox-xml" || n == "rekordbox_xml" || n == "xml") return ExportFormat::kRekordboxXml;
    if (n == "nml" || n == "traktor-nml") return ExportFormat::kTraktorNml;
    if (n == "mirex-beats" || n == "mirex_beats") return ExportFormat::kMirexBeats;
    if (n == "chords" || n == "mirex-chords" || n == "mirex_chords") return ExportFormat::kMirexChords;
    if (n == "m3u8" || n == "playlist") return ExportFormat::kM3u;
    if (n == "mid" || n == "smf") return ExportFormat::kMidi;
    if (n == "engine" || n == "engine-dj" || n == "engineprime" || n == "engine-prime") return ExportFormat::kEngineDj;
    if (n == "sections" || n == "mirex-sections" || n == "segments") return ExportFormat::kMirexSections;
    return make_error(
        ErrorCode::kInvalidArgument,
        "unknown export format '" + std::string(name) +
            "' (json, csv, jams, beats, lab, sections-lab, chordpro, rekordbox, traktor, m3u, midi, mixxx, enginedj)");
}

Result<CueSource> parse_cue_source(std::string_view name) {
    const std::string n = lower(name);
    if (n == "sections") return CueSource::kSections;
    if (n == "phrases") return CueSource::kPhrases;
    if (n == "phrases8") return CueSource::kPhrases8;
    if (n == "phrases16") return CueSource::kPhrases16;
    if (n == "phrases32") return CueSource::kPhrases32;
    if (n == "none") return CueSource::kNone;
    return make_error(ErrorCode::kInvalidArgument, "unknown cue source '" + std::string(name) +
                                                       "' (sections, phrases, phrases8, phrases16, phrases32, none)");
}

Result<DownbeatPolicy> parse_downbeat_policy(std::string_view name) {
    const std::string n = lower(name);
    if (n == "auto") return DownbeatPolicy::kAuto;
    if (n == "trust") return DownbeatPolicy::kTrust;
    if (n == "beat1") return DownbeatPolicy::kBeat1;
    return make_error(ErrorCode::kInvalidArgument,
                      "unknown downbeat policy '" + std::string(name) + "' (auto, trust, beat1)");
}

bool downbeats_trusted(const SongMap& map, DownbeatPolicy policy, double min_confidence) {
    if (policy == DownbeatPolicy::kBeat1 || !map.downbeats || map.downbeats->times_s.empty()) return false;
    return policy == DownbeatPolicy::kTrust || map.downbeats->confidence >= min_confidence;
}

double bar_anchor_s(const SongMap& map, bool trusted) {
    if (!map.beats || map.beats->times_s.empty()) return 0.0;
    return trusted ? map.beats->grid.first_downbeat_s : map.beats->times_s.front();
}

std::string_view export_format_name(ExportFormat format) {
    return row_of(format).name;
}
std::string_view export_content_type(ExportFormat format) {
    return row_of(format).content_type;
}
std::string_view export_file_extension(ExportFormat format) {
    return row_of(format).extension;
}

Result<KeyNotation> parse_key_notation(std::string_view name) {
    const std::string n = lower(name);
    if (n == "standard" || n == "std" || n == "classic" || n == "musical") return KeyNotation::kStandard;
    if (n == "camelot" || n == "lancelot") return KeyNotation::kCamelot;
    if (n == "openkey" || n == "open-key" || n == "open_key" || n == "open") return KeyNotation::kOpenKey;
    return make_error(ErrorCode::kInvalidArgument,
                      "unknown key notation '" + std::string(name) + "' (standard, camelot, openkey)");
}

std::string format_key(const SongMap& map, KeyNotation notation) {
    if (!map.key || !map.key->key) return {};
    const KeyName& k = *map.key->key;
    switch (notation) {
        case KeyNotation::kCamelot:
            return k.camelot;
        case KeyNotation::kOpenKey:
            return k.open_key;
        case KeyNotation::kStandard:
            break;
    }
    return k.tonic + (k.mode == "minor" ? "m" : "");
}

std::vector<exporters::Cue> exporters::key_change_cues(const SongMap& map, KeyNotation notation) {
    std::vector<Cue> out;
    if (!map.key || !map.key->key || map.key->segments.size() < 2) return out;
    for (size_t i = 1; i < map.key->segments.size(); ++i) {
        const KeyName& k = map.key->segments[i].key;
        const std::string name = notation == KeyNotation::kCamelot   ? k.camelot
                                 : notation == KeyNotation::kOpenKey ? k.open_key
                                                                     : k.tonic + (k.mode == "minor" ? "m" : "");
        out.push_back({map.key->segments[i].start_s, "Key " + name});
    }
    return out;
}

std::optional<int> energy_level(const SongMap& map) {
    if (!map.loudness || map.loudness->silent) return std::nullopt;
    const Loudness& l = *map.loudness;
    const double loud = clamp01((l.integrated_lufs + 24.0) / 18.0);  // -24 LUFS -> 0, -6 LUFS -> 1
    const double dense = clamp01(1.0 - l.loudness_range_lu / 20.0);  // compressed -> 1
    const double tempo = (map.tempo && map.tempo->bpm) ? clamp01((*map.tempo->bpm - 60.0) / 120.0) : 0.3;
    const double score = 0.55 * loud + 0.15 * dense + 0.30 * tempo;
    return 1 + static_cast<int>(std::lround(9.0 * score));
}

Result<std::string> export_song_maps(const std::vector<SongMap>& maps, ExportFormat format,
                                     const ExportOptions& options) {
    if (maps.empty()) return make_error(ErrorCode::kInvalidArgument, "nothing to export: no Song Maps");
    switch (format) {
        case ExportFormat::kJson:
            return exporters::render_json(maps);
        case ExportFormat::kCsv:
            return exporters::render_csv(maps, options);
        case ExportFormat::kJams:
            return exporters::render_jams(maps);
        case ExportFormat::kMirexBeats:
            return exporters::render_mirex_beats(maps);
        case ExportFormat::kMirexChords:
            return exporters::render_mirex_chords(maps);
        case ExportFormat::kMirexSections:
            return exporters::render_mirex_sections(maps);
        case ExportFormat::kRekordboxXml:
            return exporters::render_rekordbox(maps, options);
        case ExportFormat::kTraktorNml:
            return exporters::render_traktor(maps, options);
        case ExportFormat::kM3u:
            return exporters::render_m3u(maps, options);
        case ExportFormat::kChordPro:
            return exporters::render_chordpro(maps);
        case ExportFormat::kMidi:
            return exporters::render_midi(maps);
        case ExportFormat::kMixxxDb:
            return exporters::render_mixxx(maps, options);
        case ExportFormat::kEngineDj:
            return exporters::render_enginedj(maps, options);
    }
    return make_error(ErrorCode::kInvalidArgument, "unknown export format");
}

std::string summary_text(const SongMap& m) {
    std::string out;
    auto add = [&](const std::string& s) { out += (out.empty() ? "" : " \u00b7 ") + s; };
    if (m.tempo && m.tempo->bpm) {
        char b[32];
        std::snprintf(b, sizeof b, "%.2f BPM", *m.tempo->bpm);
        add(b);
    } else if (m.tempo) {
        add("no tempo");
    }
    if (m.key && m.key->key)
        add(m.key->key->label + " (" + m.key->key->camelot + ")");
    else if (m.key)
        add("no key");
    if (m.meter && !m.meter->label.empty()) add(m.meter->label);
    if (m.loudness) {
        if (m.loudness->silent) {
            add("silent");
        } else {
            char b[32];
            const double l = m.loudness->integrated_lufs;
            std::snprintf(b, sizeof b, "%s%.1f LUFS", l < 0 ? "\u2212" : "", std::fabs(l));
            add(b);
        }
    }
    return out.empty() ? "no result" : out;
}

double target_time_offset_s(const SongMap& map, DjTarget target) {
    if (target == DjTarget::kTraktor) return 0.0;
    if (map.audio.codec.rfind("mp3", 0) != 0 || map.audio.sample_rate_hz <= 0) return 0.0;
    return static_cast<double>(map.audio.gapless_trim_frames) / map.audio.sample_rate_hz;
}

bool target_can_play(ExportFormat format, const SongMap& map, std::string* why) {
    const bool rekordbox = format == ExportFormat::kRekordboxXml;
    const bool traktor = format == ExportFormat::kTraktorNml;
    const bool engine = format == ExportFormat::kEngineDj;
    if (!rekordbox && !traktor && !engine) return true;
    const std::string codec = map.audio.codec;
    static const char* kCommon[] = {"mp3", "mp3float", "aac", "alac", "flac", "pcm_", "adpcm_ima_wav"};
    for (const char* c : kCommon)
        if (codec.rfind(c, 0) == 0) return true;
    if ((traktor || engine) && codec == "vorbis") return true;
    if (why)
        *why = std::string(rekordbox ? "rekordbox"
                           : traktor ? "Traktor"
                                     : "Engine DJ") +
               " cannot play " + (codec.empty() ? std::string("this file") : codec + " audio") + " (" +
               std::filesystem::path(map.audio.path).extension().string() + ")";
    return false;
}

std::string display_title(const SongMap& map) {
    const std::string title = exporters::title_of(map);
    return map.audio.tags.artist.empty() ? title : map.audio.tags.artist + " - " + title;
}

std::string map_export_path(const std::string& path, const std::vector<std::pair<std::string, std::string>>& path_map) {
    for (const auto& [from, to] : path_map) {
        std::string f = from;
        while (f.size() > 1 && f.back() == '/') f.pop_back();
        if (path.compare(0, f.size(), f) != 0) continue;
        if (path.size() != f.size() && path[f.size()] != '/' && f != "/") continue;  // whole components
        std::string t = to;
        while (t.size() > 1 && t.back() == '/') t.pop_back();
        std::string rest = path.substr(f.size());
        if (f == "/" && !rest.empty() && rest.front() != '/') rest = "/" + rest;
        return t + rest;
    }
    return path;
}

Result<std::pair<std::string, std::string>> parse_path_map(std::string_view text) {
    const auto eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size())
        return make_error(
            ErrorCode::kInvalidArgument,
            "--path-map expects FROM=TO (e.g. /home/me/Music=/Volumes/USB/Music), got '" + std::string(text) + "'");
    return std::pair<std::string, std::string>(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
}

namespace exporters {

std::string fixed(double v, int decimals) {
    if (!std::isfinite(v)) v = 0.0;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    std::string s(buf);
    if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);  // no "-0.00"
    return s;
}

std::string xml_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (ch) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            case '\t':
                out += "&#9;";
                break;
            case '\n':
                out += "&#10;";
                break;
            case '\r':
                out += "&#13;";
                break;
            default:
                if (c >= 0x20) out += ch;  // other control characters are not allowed in XML 1.0
        }
    }
    return out;
}

std::string key_text(const SongMap& map, KeyNotation notation) {
    return format_key(map, notation);
}

std::string absolute_path(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path p = fs::absolute(fs::path(path), ec);
    if (ec) p = fs::path(path);
    return p.lexically_normal().string();
}

std::string title_of(const SongMap& map) {
    if (!map.audio.tags.title.empty()) return map.audio.tags.title;
    return std::filesystem::path(map.audio.path).stem().string();
}

std::string export_path(const SongMap& map, const ExportOptions& options) {
    return map_export_path(absolute_path(map.audio.path), options.path_map);
}

std::vector<std::pair<std::string, std::vector<size_t>>> folder_playlists(const std::vector<SongMap>& maps) {
    namespace fs = std::filesystem;
    std::vector<std::pair<std::string, std::vector<size_t>>> out;
    std::vector<fs::path> dirs;
    for (size_t i = 0; i < maps.size(); ++i) {
        const fs::path d = fs::path(absolute_path(maps[i].audio.path)).parent_path();
        size_t k = 0;
        while (k < dirs.size() && dirs[k] != d) ++k;
        if (k == dirs.size()) {
            dirs.push_back(d);
            out.push_back({{}, {}});
        }
        out[k].second.push_back(i);
    }
    if (dirs.size() < 2) return {};
    // The common ancestor: names are the paths below it ("House/Deep"), or the last folder name.
    fs::path common = dirs[0];
    for (const auto& d : dirs)
        while (!common.empty() && std::mismatch(common.begin(), common.end(), d.begin(), d.end()).first != common.end())
            common = common.parent_path();
    for (size_t k = 0; k < dirs.size(); ++k) {
        std::string name = dirs[k].lexically_relative(common).generic_string();
        if (name.empty() || name == ".") name = dirs[k].filename().string();
        out[k].first = name;
    }
    std::sort(out.begin(), out.end());
    return out;
}

DjMeter dj_meter(const SongMap& map, const ExportOptions& options) {
    DjMeter d;
    if (options.force_four_four || !map.meter || map.meter->numerator <= 0 || map.meter->label.empty()) return d;
    if (map.meter->confidence < options.min_meter_confidence) return d;
    d.label = map.meter->label;
    d.beats_per_bar = map.meter->numerator;
    return d;
}

std::string dj_key(const SongMap& map, const ExportOptions& options, KeyNotation fallback) {
    return format_key(map, options.dj_key_notation.value_or(fallback));
}

}  // namespace exporters
}  // namespace harmony
