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
    {ExportFormat::kRekordboxXml, "rekordbox", "application/xml", ".xml"},
    {ExportFormat::kTraktorNml, "traktor", "application/xml", ".nml"},
    {ExportFormat::kM3u, "m3u", "audio/x-mpegurl", ".m3u"},
    {ExportFormat::kChordPro, "chordpro", "text/plain; charset=utf-8", ".cho"},
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
    return make_error(ErrorCode::kInvalidArgument,
                      "unknown export format '" + std::string(name) +
                          "' (json, csv, jams, beats, lab, chordpro, rekordbox, traktor, m3u)");
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
        case ExportFormat::kRekordboxXml:
            return exporters::render_rekordbox(maps, options);
        case ExportFormat::kTraktorNml:
            return exporters::render_traktor(maps, options);
        case ExportFormat::kM3u:
            return exporters::render_m3u(maps, options);
        case ExportFormat::kChordPro:
            return exporters::render_chordpro(maps);
    }
    return make_error(ErrorCode::kInvalidArgument, "unknown export format");
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
    return std::filesystem::path(map.audio.path).stem().string();
}

}  // namespace exporters
}  // namespace harmony
