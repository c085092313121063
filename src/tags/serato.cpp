// Serato GEOB payloads (serato.hpp), after the layouts documented in formats.md §1.3.
#include "tags/serato.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>

#include "export/export_internal.hpp"
#include "export/grid.hpp"
#include "harmony/export.hpp"

namespace harmony::tags::serato {

namespace {

void put_u32(std::string& out, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out += static_cast<char>((v >> s) & 0xff);
}
void put_f32(std::string& out, float f) {
    std::uint32_t v;
    std::memcpy(&v, &f, 4);
    put_u32(out, v);
}
std::uint32_t get_u32(const std::string& s, size_t at) {
    return (std::uint32_t{static_cast<unsigned char>(s[at])} << 24) |
           (std::uint32_t{static_cast<unsigned char>(s[at + 1])} << 16) |
           (std::uint32_t{static_cast<unsigned char>(s[at + 2])} << 8) | static_cast<unsigned char>(s[at + 3]);
}

// Serato's hot-cue palette (the first eight of its default colours).
constexpr std::uint32_t kCueColours[8] = {0xCC0000, 0xCC4400, 0x0000CC, 0xCCCC00,
                                          0x00CC00, 0xCC00CC, 0x00CCCC, 0x8800CC};

}  // namespace

std::string base64(const std::string& bytes, bool pad, int line_length) {
    static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    int col = 0;
    auto emit = [&](char c) {
        if (line_length > 0 && col == line_length) {
            out += '\n';
            col = 0;
        }
        out += c;
        ++col;
    };
    size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                                (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                                static_cast<unsigned char>(bytes[i + 2]);
        for (int s = 18; s >= 0; s -= 6) emit(kAlphabet[(v >> s) & 63]);
    }
    const size_t rest = bytes.size() - i;
    if (rest > 0) {
        std::uint32_t v = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
        if (rest == 2) v |= std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
        emit(kAlphabet[(v >> 18) & 63]);
        emit(kAlphabet[(v >> 12) & 63]);
        if (rest == 2) emit(kAlphabet[(v >> 6) & 63]);
        if (pad)
            for (size_t k = rest; k < 3; ++k) emit('=');
    }
    return out;
}

std::optional<std::string> unbase64(const std::string& text) {
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+')
            v = 62;
        else if (c == '/')
            v = 63;
        else if (c == '=' || c == '\n' || c == '\r' || c == '\0')
            continue;
        else
            return std::nullopt;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    return out;
}

std::string autotags(const SongMap& m) {
    std::string out("\x01\x01", 2);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", (m.tempo && m.tempo->bpm) ? *m.tempo->bpm : 0.0);
    out += buf;
    out += '\0';
    // Auto-gain: the ReplayGain 2.0 track gain (what Serato's autogain also aims at); gain dB 0.
    std::snprintf(buf, sizeof buf, "%.3f",
                  (m.loudness && !m.loudness->silent) ? m.loudness->replaygain_track_gain_db : 0.0);
    out += buf;
    out += '\0';
    out += "0.000";
    out += '\0';
    return out;
}

std::string beatgrid(const SongMap& m, double offset_s) {
    const auto sections = exporters::grid_sections(m);
    if (sections.empty()) return {};
    std::string out("\x01\x00", 2);
    put_u32(out, static_cast<std::uint32_t>(sections.size()));
    for (size_t i = 0; i + 1 < sections.size(); ++i) {
        put_f32(out, static_cast<float>(sections[i].start_s + offset_s));
        const double beats = (sections[i + 1].start_s - sections[i].start_s) * sections[i].bpm / 60.0;
        put_u32(out, static_cast<std::uint32_t>(std::max(1L, std::lround(beats))));
    }
    put_f32(out, static_cast<float>(sections.back().start_s + offset_s));
    put_f32(out, static_cast<float>(sections.back().bpm));
    out += '\0';  // footer
    return out;
}

std::string markers2(const SongMap& m, double offset_s, bool trust_downbeats, CueSource source) {
    std::string inner("\x01\x01", 2);
    auto entry = [&](const char* type, const std::string& body) {
        inner += type;
        inner += '\0';
        put_u32(inner, static_cast<std::uint32_t>(body.size()));
        inner += body;
    };
    entry("COLOR", std::string("\x00\xFF\xFF\xFF", 4));
    // The same cues as the rekordbox / Traktor exports ("Chorus B" at section or phrase starts,
    // else "Start" at the bar anchor).
    // More than 8: the section starts first, then the other cues in time order (hot_cues).
    const auto cues = exporters::hot_cues(exporters::cue_points(m, source, trust_downbeats), 8);
    for (size_t i = 0; i < cues.size() && i < 8; ++i) {
        std::string body;
        body += '\0';
        body += static_cast<char>(i);
        put_u32(body, static_cast<std::uint32_t>(std::max(0L, std::lround(1000.0 * (cues[i].start_s + offset_s)))));
        body += '\0';
        body += static_cast<char>((kCueColours[i] >> 16) & 0xff);
        body += static_cast<char>((kCueColours[i] >> 8) & 0xff);
        body += static_cast<char>(kCueColours[i] & 0xff);
        body += std::string("\x00\x00", 2);
        body += cues[i].name;
        body += '\0';
        entry("CUE", body);
    }
    entry("BPMLOCK", std::string(1, '\0'));
    inner += '\0';
    return std::string("\x01\x01", 2) + base64(inner, false, 72);
}

std::optional<Markers2Info> parse_markers2(const std::string& payload) {
    if (payload.size() < 2 || payload[0] != '\x01' || payload[1] != '\x01') return std::nullopt;
    std::string b64 = payload.substr(2);
    const auto nul = b64.find('\0');
    if (nul != std::string::npos) b64.resize(nul);  // Serato pads the frame with NULs
    auto inner = unbase64(b64);
    if (!inner || inner->size() < 2) return std::nullopt;
    Markers2Info info;
    size_t p = 2;
    while (p < inner->size()) {
        const auto end = inner->find('\0', p);
        if (end == std::string::npos || end == p || end + 5 > inner->size()) break;
        const std::string type = inner->substr(p, end - p);
        const std::uint32_t len = get_u32(*inner, end + 1);
        const size_t body = end + 5;
        if (body + len > inner->size()) break;
        if (type == "CUE") ++info.cues;
        if (type == "LOOP") ++info.loops;
        if (type == "BPMLOCK" && len >= 1) info.bpm_lock = (*inner)[body] != 0;
        p = body + len;
    }
    return info;
}

std::string text_value(const std::string& geob_name, const std::string& payload) {
    std::string raw = "application/octet-stream";
    raw += '\0';
    raw += '\0';
    raw += geob_name;
    raw += '\0';
    raw += payload;
    return base64(raw, false, 72);
}

std::optional<std::string> payload_of_text_value(const std::string& value) {
    auto raw = unbase64(value);
    if (!raw) return std::nullopt;
    size_t p = raw->find('\0');  // mime type
    if (p == std::string::npos || p + 1 >= raw->size()) return std::nullopt;
    p = raw->find('\0', p + 1);  // file name (empty)
    if (p == std::string::npos) return std::nullopt;
    p = raw->find('\0', p + 1);  // description
    if (p == std::string::npos) return std::nullopt;
    return raw->substr(p + 1);
}

std::string vorbis_field(const std::string& geob_name) {
    if (geob_name == "Serato Markers2") return "SERATO_MARKERS_V2";
    if (geob_name == "Serato Autotags") return "SERATO_AUTOGAIN";
    std::string out = "SERATO_";
    for (char c : geob_name.substr(7)) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string mp4_atom(const std::string& geob_name) {
    if (geob_name == "Serato Markers2") return "----:com.serato.dj:markersv2";
    if (geob_name == "Serato Autotags") return "----:com.serato.dj:autgain";
    std::string out = "----:com.serato.dj:";
    for (char c : geob_name.substr(7)) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace harmony::tags::serato
