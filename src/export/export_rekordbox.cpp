// rekordbox XML (formats.md §1.1): DJ_PLAYLISTS / PRODUCT / COLLECTION / TRACK with TEMPO beat
// grid sections (several = a variable-tempo "dynamic" grid) and POSITION_MARK cues at section
// starts, plus one playlist holding every exported track.
#include <cmath>
#include <ctime>
#include <filesystem>

#include "export/export_internal.hpp"
#include "export/grid.hpp"
#include "harmony/version.hpp"

namespace harmony::exporters {

namespace {

std::string today() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

std::string kind_of(const SongMap& m) {
    std::string ext = std::filesystem::path(m.audio.path).extension().string();
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ext == ".mp3") return "MP3 File";
    if (ext == ".wav" || ext == ".wave") return "WAV File";
    if (ext == ".aif" || ext == ".aiff" || ext == ".aifc") return "AIFF File";
    if (ext == ".flac") return "FLAC File";
    if (ext == ".m4a" || ext == ".mp4" || ext == ".aac" || ext == ".alac") return "M4A File";
    if (ext.size() > 1) {
        std::string up = ext.substr(1);
        for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return up + " File";
    }
    return "Audio File";
}

// Hot-cue colours (rekordbox 6 palette order): A..H.
constexpr int kHotCueRgb[8][3] = {{40, 226, 20},  {48, 90, 255}, {255, 18, 123}, {255, 127, 0},
                                  {224, 100, 27}, {0, 184, 255}, {165, 77, 255}, {255, 215, 0}};

}  // namespace

std::string rekordbox_location(const std::string& path) {
    // "file://localhost" + the absolute path, percent-encoded except unreserved characters, '/'
    // and ':' (pyrekordbox encode_path: quote(path, safe=":/\\")).
    // A path mapped to another machine may be a Windows one ("C:/Music/x.mp3"): kept as given.
    const bool drive = path.size() > 2 && std::isalpha(static_cast<unsigned char>(path[0])) && path[1] == ':';
    std::string abs = drive ? path : absolute_path(path);
    if (abs.empty() || abs.front() != '/') abs = "/" + abs;
    static const char* kHex = "0123456789ABCDEF";
    std::string out = "file://localhost";
    for (unsigned char c : abs) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/' || c == ':') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

Result<std::string> render_rekordbox(const std::vector<SongMap>& maps, const ExportOptions& options) {
    std::string x;
    x += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    x += "<DJ_PLAYLISTS Version=\"1.0.0\">\n";
    x += std::string("  <PRODUCT Name=\"Harmony\" Version=\"") + kVersion + "\" Company=\"Harmony\"/>\n";
    x += "  <COLLECTION Entries=\"" + std::to_string(maps.size()) + "\">\n";
    const std::string date = today();
    for (size_t i = 0; i < maps.size(); ++i) {
        const SongMap& m = maps[i];
        const bool has_bpm = m.tempo && m.tempo->bpm;
        const FileTags& tg = m.audio.tags;
        // rekordbox ignores LAME gapless info: its timeline starts before ours (formats.md §0).
        const double shift = target_time_offset_s(m, DjTarget::kRekordbox);
        x += "    <TRACK TrackID=\"" + std::to_string(i + 1) + "\" Name=\"" + xml_escape(title_of(m)) + "\" Artist=\"" +
             xml_escape(tg.artist) + "\" Composer=\"\" Album=\"" + xml_escape(tg.album) + "\" Grouping=\"\" Genre=\"" +
             xml_escape(tg.genre) + "\" Kind=\"" + kind_of(m) + "\" Size=\"" + std::to_string(m.audio.file_size_bytes) +
             "\" TotalTime=\"" + std::to_string(static_cast<long long>(std::floor(m.audio.duration_s))) +
             "\" DiscNumber=\"0\"" + " TrackNumber=\"0\" Year=\"0\" AverageBpm=\"" +
             (has_bpm ? fixed(*m.tempo->bpm, 2) : "0.00") + "\" DateAdded=\"" + date + "\" BitRate=\"" +
             std::to_string(m.audio.bit_rate / 1000) + "\" SampleRate=\"" + std::to_string(m.audio.sample_rate_hz) +
             "\" Comments=\"" + xml_escape(tg.comment) + "\" PlayCount=\"0\"" + " Rating=\"0\" Location=\"" +
             xml_escape(rekordbox_location(export_path(m, options))) + "\" Remixer=\"\" Tonality=\"" +
             xml_escape(dj_key(m, options, KeyNotation::kStandard)) + "\" Label=\"\" Mix=\"\">\n";
        const DjMeter meter = dj_meter(m, options);
        const bool bars = downbeats_trusted(m, options.downbeats, options.min_downbeat_confidence);
        for (const auto& g : grid_sections(m)) {
            // Battito: the section's first beat in the bar (counted from the first beat: beat 1)
            const int battito = bars ? (g.beat_in_bar - 1) % meter.beats_per_bar + 1
                                     : static_cast<int>(g.beat_index % static_cast<size_t>(meter.beats_per_bar)) + 1;
            x += "      <TEMPO Inizio=\"" + fixed(g.start_s + shift, 3) + "\" Bpm=\"" + fixed(g.bpm, 2) +
                 "\" Metro=\"" + xml_escape(meter.label) + "\" Battito=\"" + std::to_string(battito) + "\"/>\n";
        }
        const auto cues = cue_points(m, options.cues, bars);
        for (const auto& c : cues)  // memory cues
            x += "      <POSITION_MARK Name=\"" + xml_escape(c.name) + "\" Type=\"0\" Start=\"" +
                 fixed(std::max(0.0, c.start_s + shift), 3) + "\" Num=\"-1\"/>\n";
        for (const auto& c : key_change_cues(m, options.dj_key_notation.value_or(KeyNotation::kStandard)))
            x += "      <POSITION_MARK Name=\"" + xml_escape(c.name) + "\" Type=\"0\" Start=\"" +
                 fixed(std::max(0.0, c.start_s + shift), 3) + "\" Num=\"-1\"/>\n";
        const auto hot = hot_cues(cues, 8);  // the same points on hot cues A..H (section starts first)
        for (size_t k = 0; k < hot.size(); ++k)
            x += "      <POSITION_MARK Name=\"" + xml_escape(hot[k].name) + "\" Type=\"0\" Start=\"" +
                 fixed(std::max(0.0, hot[k].start_s + shift), 3) + "\" Num=\"" + std::to_string(k) + "\" Red=\"" +
                 std::to_string(kHotCueRgb[k][0]) + "\" Green=\"" + std::to_string(kHotCueRgb[k][1]) + "\" Blue=\"" +
                 std::to_string(kHotCueRgb[k][2]) + "\"/>\n";
        x += "    </TRACK>\n";
    }
    x += "  </COLLECTION>\n";
    x += "  <PLAYLISTS>\n";
    const auto folders = folder_playlists(maps);  // crates from folders, when there are several
    x += std::string("    <NODE Type=\"0\" Name=\"ROOT\" Count=\"") + (folders.empty() ? "1" : "2") + "\">\n";
    x += "      <NODE Name=\"Harmony\" Type=\"1\" KeyType=\"0\" Entries=\"" + std::to_string(maps.size()) + "\">\n";
    for (size_t i = 0; i < maps.size(); ++i) x += "        <TRACK Key=\"" + std::to_string(i + 1) + "\"/>\n";
    x += "      </NODE>\n";
    if (!folders.empty()) {
        x += "      <NODE Type=\"0\" Name=\"Folders\" Count=\"" + std::to_string(folders.size()) + "\">\n";
        for (const auto& [name, idx] : folders) {
            x += "        <NODE Name=\"" + xml_escape(name) + "\" Type=\"1\" KeyType=\"0\" Entries=\"" +
                 std::to_string(idx.size()) + "\">\n";
            for (size_t i : idx) x += "          <TRACK Key=\"" + std::to_string(i + 1) + "\"/>\n";
            x += "        </NODE>\n";
        }
        x += "      </NODE>\n";
    }
    x += "    </NODE>\n";
    x += "  </PLAYLISTS>\n";
    x += "</DJ_PLAYLISTS>\n";
    return x;
}

}  // namespace harmony::exporters
