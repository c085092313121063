// Traktor NML (formats.md §1.2): COLLECTION / ENTRY with LOCATION, INFO (Open Key text), TEMPO,
// MUSICAL_KEY (pitch class + 12 x minor) and the AutoGrid CUE_V2 (TYPE 4, milliseconds) at the
// first downbeat; section starts become cue points; one playlist holds every exported track.
// Traktor keeps a single BPM per track, so a variable-tempo grid is exported as its average.
#include <cmath>
#include <ctime>
#include <filesystem>

#include "export/export_internal.hpp"

namespace harmony::exporters {

namespace {

std::string traktor_date() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    return std::to_string(tm.tm_year + 1900) + "/" + std::to_string(tm.tm_mon + 1) + "/" + std::to_string(tm.tm_mday);
}

// "/home/dj/Music/x.mp3" -> DIR "/:home/:dj/:Music/:", FILE "x.mp3".
void split_location(const std::string& path, std::string& dir, std::string& file) {
    const std::filesystem::path p(path);
    file = p.filename().string();
    dir = "/:";
    for (const auto& part : p.parent_path().relative_path()) dir += part.string() + "/:";
}

}  // namespace

Result<std::string> render_traktor(const std::vector<SongMap>& maps, const ExportOptions& options) {
    const std::string date = traktor_date();
    std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\" ?>\n";
    x += "<NML VERSION=\"19\"><HEAD COMPANY=\"www.native-instruments.com\" PROGRAM=\"Traktor\"/><MUSICFOLDERS/>\n";
    x += "<COLLECTION ENTRIES=\"" + std::to_string(maps.size()) + "\">\n";
    std::vector<std::string> keys;
    for (const auto& m : maps) {
        std::string dir, file;
        split_location(export_path(m, options), dir, file);
        keys.push_back(dir + file);  // VOLUME is empty on POSIX paths
        const FileTags& tg = m.audio.tags;
        // Traktor applies gapless info like our decoder: no timeline offset (target_time_offset_s).
        x += "<ENTRY MODIFIED_DATE=\"" + date + "\" MODIFIED_TIME=\"0\" TITLE=\"" + xml_escape(title_of(m)) +
             "\" ARTIST=\"" + xml_escape(tg.artist) + "\">\n";
        x +=
            "<LOCATION DIR=\"" + xml_escape(dir) + "\" FILE=\"" + xml_escape(file) + "\" VOLUME=\"\" VOLUMEID=\"\"/>\n";
        if (!tg.album.empty()) x += "<ALBUM TITLE=\"" + xml_escape(tg.album) + "\"/>\n";
        const bool has_key = m.key && m.key->key;
        x += "<INFO BITRATE=\"" + std::to_string(m.audio.bit_rate) + "\"" +
             (tg.genre.empty() ? std::string() : " GENRE=\"" + xml_escape(tg.genre) + "\"") +
             (tg.comment.empty() ? std::string() : " COMMENT=\"" + xml_escape(tg.comment) + "\"") +
             (has_key ? " KEY=\"" + xml_escape(dj_key(m, options, KeyNotation::kOpenKey)) + "\"" : std::string()) +
             " PLAYTIME=\"" + std::to_string(static_cast<long long>(std::lround(m.audio.duration_s))) +
             "\" PLAYTIME_FLOAT=\"" + fixed(m.audio.duration_s, 6) + "\" IMPORT_DATE=\"" + date + "\" FILESIZE=\"" +
             std::to_string(m.audio.file_size_bytes / 1024) + "\"/>\n";
        if (m.tempo && m.tempo->bpm)
            x += "<TEMPO BPM=\"" + fixed(*m.tempo->bpm, 6) + "\" BPM_QUALITY=\"" +
                 fixed(100.0 * m.tempo->confidence, 6) + "\"/>\n";
        if (has_key)
            x += "<MUSICAL_KEY VALUE=\"" +
                 std::to_string(m.key->key->pitch_class + (m.key->key->mode == "minor" ? 12 : 0)) + "\"/>\n";
        int order = 0;
        if (m.beats && !m.beats->times_s.empty()) {
            // the AutoGrid marker is beat 1 of a bar for Traktor
            const double anchor =
                bar_anchor_s(m, downbeats_trusted(m, options.downbeats, options.min_downbeat_confidence));
            x += "<CUE_V2 NAME=\"AutoGrid\" DISPL_ORDER=\"" + std::to_string(order++) + "\" TYPE=\"4\" START=\"" +
                 fixed(1000.0 * anchor, 6) + "\" LEN=\"0.000000\" REPEATS=\"-1\" HOTCUE=\"0\">";
            if (m.tempo && m.tempo->bpm) x += "<GRID BPM=\"" + fixed(*m.tempo->bpm, 6) + "\"/>";
            x += "</CUE_V2>\n";
        }
        if (m.sections && options.cues != CueSource::kNone) {
            // Every cue is a CUE_V2; pads 2-8 (pad 1 holds the grid marker) go to hot_cues' choice.
            const auto cues = cue_points(m, options.cues, true);
            const auto pads = hot_cues(cues, 7);
            size_t next = 0;
            for (const auto& s : cues) {
                int hot = -1;
                if (next < pads.size() && pads[next].start_s == s.start_s && pads[next].name == s.name)
                    hot = static_cast<int>(++next);
                x += "<CUE_V2 NAME=\"" + xml_escape(s.name) + "\" DISPL_ORDER=\"" + std::to_string(order++) +
                     "\" TYPE=\"0\" START=\"" + fixed(1000.0 * s.start_s, 6) +
                     "\" LEN=\"0.000000\" REPEATS=\"-1\" HOTCUE=\"" + std::to_string(hot) + "\"/>\n";
            }
        }
        for (const auto& c : key_change_cues(m, options.dj_key_notation.value_or(KeyNotation::kOpenKey)))
            x += "<CUE_V2 NAME=\"" + xml_escape(c.name) + "\" DISPL_ORDER=\"" + std::to_string(order++) +
                 "\" TYPE=\"0\" START=\"" + fixed(1000.0 * c.start_s, 6) +
                 "\" LEN=\"0.000000\" REPEATS=\"-1\" HOTCUE=\"-1\"/>\n";
        x += "</ENTRY>\n";
    }
    x += "</COLLECTION>\n";
    const auto folders = folder_playlists(maps);  // crates from folders, when there are several
    x += std::string("<PLAYLISTS><NODE TYPE=\"FOLDER\" NAME=\"$ROOT\"><SUBNODES COUNT=\"") +
         (folders.empty() ? "1" : "2") + "\">\n";
    x += "<NODE TYPE=\"PLAYLIST\" NAME=\"Harmony\"><PLAYLIST ENTRIES=\"" + std::to_string(maps.size()) +
         "\" TYPE=\"LIST\" UUID=\"harmony\">\n";
    for (const auto& k : keys) x += "<ENTRY><PRIMARYKEY TYPE=\"TRACK\" KEY=\"" + xml_escape(k) + "\"/></ENTRY>\n";
    x += "</PLAYLIST></NODE>\n";
    if (!folders.empty()) {
        x += "<NODE TYPE=\"FOLDER\" NAME=\"Folders\"><SUBNODES COUNT=\"" + std::to_string(folders.size()) + "\">\n";
        for (size_t f = 0; f < folders.size(); ++f) {
            const auto& [name, idx] = folders[f];
            x += "<NODE TYPE=\"PLAYLIST\" NAME=\"" + xml_escape(name) + "\"><PLAYLIST ENTRIES=\"" +
                 std::to_string(idx.size()) + "\" TYPE=\"LIST\" UUID=\"harmony-folder-" + std::to_string(f + 1) +
                 "\">\n";
            for (size_t i : idx)
                x += "<ENTRY><PRIMARYKEY TYPE=\"TRACK\" KEY=\"" + xml_escape(keys[i]) + "\"/></ENTRY>\n";
            x += "</PLAYLIST></NODE>\n";
        }
        x += "</SUBNODES></NODE>\n";
    }
    x += "</SUBNODES></NODE></PLAYLISTS>\n</NML>\n";
    return x;
}

}  // namespace harmony::exporters
