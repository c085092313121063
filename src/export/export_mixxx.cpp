// Mixxx library database (formats.md-style notes in src/export/README.md): a SQLite file with
// Mixxx's track tables in the column layout of its schema version 39 (Mixxx 2.4/2.5), beat grids as
// Mixxx's BeatGrid-2.0 / BeatMap-1.0 protocol buffers, keys as KeyMap-1.0 (with the key changes),
// section cues as hot cues, the bar anchor as the main cue, one playlist and a crate per folder.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "export/export_internal.hpp"
#include "export/grid.hpp"
#include "export/sqlite_file.hpp"

namespace harmony::exporters {

namespace {

// --- protocol buffers (proto2 wire format): only what the three messages need
void put_varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out += static_cast<char>((v & 0x7F) | 0x80);
        v >>= 7;
    }
    out += static_cast<char>(v);
}
void put_tag(std::string& out, int field, int wire) {
    put_varint(out, static_cast<std::uint64_t>(field) << 3 | static_cast<std::uint64_t>(wire));
}
void put_double(std::string& out, int field, double v) {
    put_tag(out, field, 1);
    std::uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    for (int i = 0; i < 8; ++i) out += static_cast<char>((bits >> (8 * i)) & 0xFF);
}
void put_bytes(std::string& out, int field, const std::string& bytes) {
    put_tag(out, field, 2);
    put_varint(out, bytes.size());
    out += bytes;
}
void put_int(std::string& out, int field, std::int64_t v) {
    put_tag(out, field, 0);
    put_varint(out, static_cast<std::uint64_t>(v));
}

// Mixxx's ChromaticKey: C major = 1 ... B major = 12, C minor = 13 ... B minor = 24.
int chromatic_key(const KeyName& k) {
    return k.pitch_class + (k.mode == "minor" ? 13 : 1);
}

// Beats: a constant grid is a BeatGrid (bpm, first beat); a variable one a BeatMap of every beat.
// Positions are frames of the file's sample rate.
std::pair<std::string, std::string> beats_blob(const SongMap& m, double rate) {
    if (!m.beats || m.beats->times_s.empty()) return {};
    if (m.beats->grid.constant && m.beats->grid.bpm > 0) {
        std::string bpm, first, grid;
        put_double(bpm, 1, m.beats->grid.bpm);
        put_double(first, 1, m.beats->grid.first_beat_s * rate);
        put_bytes(grid, 1, bpm);
        put_bytes(grid, 2, first);
        return {grid, "BeatGrid-2.0"};
    }
    std::string map;
    for (double t : m.beats->times_s) {
        std::string beat;
        put_double(beat, 1, t * rate);
        put_bytes(map, 1, beat);
    }
    return {map, "BeatMap-1.0"};
}

std::string keys_blob(const SongMap& m, double rate, const std::string& text) {
    std::string out;
    const Key& k = *m.key;
    put_int(out, 1, chromatic_key(*k.key));
    put_bytes(out, 2, text);
    if (k.segments.size() > 1)
        for (const auto& s : k.segments) {
            std::string change;
            put_int(change, 1, static_cast<std::int64_t>(std::llround(s.start_s * rate)));
            put_int(change, 2, chromatic_key(s.key));
            put_bytes(out, 3, change);
        }
    if (k.tuning.a4_hz > 0) put_double(out, 5, k.tuning.a4_hz);
    return out;
}

// The tables Mixxx's library reads, with the columns of schema version 39.
constexpr const char* kSchema = R"SQL(
CREATE TABLE settings (name TEXT UNIQUE NOT NULL, value TEXT, locked INTEGER DEFAULT 0, hidden INTEGER DEFAULT 0);
CREATE TABLE track_locations (id INTEGER PRIMARY KEY AUTOINCREMENT, location varchar(512) UNIQUE,
  filename varchar(512), directory varchar(512), filesize INTEGER, fs_deleted INTEGER, needs_verification INTEGER);
CREATE TABLE LibraryHashes (directory_path VARCHAR(256) PRIMARY KEY, hash INTEGER, directory_deleted INTEGER,
  needs_verification INTEGER DEFAULT 0);
CREATE TABLE library (id INTEGER PRIMARY KEY AUTOINCREMENT, artist varchar(64), title varchar(64),
  album varchar(64), year varchar(16), genre varchar(64), tracknumber varchar(3),
  location INTEGER REFERENCES track_locations(location), comment varchar(256), url varchar(256), duration FLOAT,
  bitrate INTEGER, samplerate INTEGER, cuepoint INTEGER, bpm FLOAT, wavesummaryhex BLOB, channels INTEGER,
  datetime_added DEFAULT CURRENT_TIMESTAMP, mixxx_deleted INTEGER, played INTEGER, header_parsed INTEGER DEFAULT 0,
  filetype varchar(8) DEFAULT '?', replaygain FLOAT DEFAULT 0, timesplayed INTEGER DEFAULT 0,
  rating INTEGER DEFAULT 0, key varchar(8) DEFAULT '', beats BLOB, beats_version TEXT,
  composer varchar(64) DEFAULT '', bpm_lock INTEGER DEFAULT 0, beats_sub_version TEXT DEFAULT '', keys BLOB,
  keys_version TEXT, keys_sub_version TEXT, key_id INTEGER DEFAULT 0, grouping TEXT DEFAULT '',
  album_artist TEXT DEFAULT '', coverart_source INTEGER DEFAULT 0, coverart_type INTEGER DEFAULT 0,
  coverart_location TEXT DEFAULT '', coverart_hash INTEGER DEFAULT 0, replaygain_peak REAL DEFAULT -1.0,
  tracktotal TEXT DEFAULT '//', color INTEGER, coverart_color INTEGER, coverart_digest BLOB,
  last_played_at DATETIME DEFAULT NULL, source_synchronized_ms INTEGER DEFAULT NULL);
CREATE TABLE Playlists (id INTEGER PRIMARY KEY, name varchar(48), position INTEGER, hidden INTEGER DEFAULT 0 NOT NULL,
  date_created datetime, date_modified datetime, locked INTEGER DEFAULT 0);
CREATE TABLE PlaylistTracks (id INTEGER PRIMARY KEY, playlist_id INTEGER REFERENCES Playlists(id),
  track_id INTEGER REFERENCES library(id), position INTEGER, pl_datetime_added);
CREATE TABLE cues (id INTEGER PRIMARY KEY AUTOINCREMENT, track_id INTEGER NOT NULL REFERENCES library(id),
  type INTEGER DEFAULT 0 NOT NULL, position INTEGER DEFAULT -1 NOT NULL, length INTEGER DEFAULT 0 NOT NULL,
  hotcue INTEGER DEFAULT -1 NOT NULL, label TEXT DEFAULT '' NOT NULL, color INTEGER DEFAULT 4294901760 NOT NULL);
CREATE TABLE crates (id INTEGER PRIMARY KEY AUTOINCREMENT, name varchar(48) UNIQUE NOT NULL, count INTEGER DEFAULT 0,
  show INTEGER DEFAULT 1, locked INTEGER DEFAULT 0, autodj_source INTEGER DEFAULT 0);
CREATE TABLE crate_tracks (crate_id INTEGER NOT NULL REFERENCES crates(id),
  track_id INTEGER NOT NULL REFERENCES library(id), UNIQUE (crate_id, track_id));
CREATE TABLE directories (directory TEXT UNIQUE);
CREATE TABLE track_analysis (id INTEGER PRIMARY KEY AUTOINCREMENT, track_id INTEGER NOT NULL
  REFERENCES track_locations(id), type varchar(512), description varchar(1024), version varchar(512),
  created DEFAULT CURRENT_TIMESTAMP, data_checksum varchar(512));
CREATE INDEX idx_PlaylistTracks_playlist_id_track_id ON PlaylistTracks (playlist_id, track_id);
CREATE INDEX idx_PlaylistTracks_track_id ON PlaylistTracks (track_id);
CREATE INDEX idx_crate_tracks_track_id ON crate_tracks (track_id);
INSERT INTO settings (name, value) VALUES ('mixxx.schema.version', '39');
INSERT INTO settings (name, value) VALUES ('mixxx.schema.min_compatible_version', '3');
)SQL";

// Hot cue colours (Mixxx's default palette order: red, green, blue, yellow, celeste, magenta, pink, white).
constexpr std::uint32_t kHotCueColors[8] = {0xC50A08, 0x32BE44, 0x0044FF, 0xF8D200,
                                            0x42D4F4, 0xAF00CC, 0xFCA6D7, 0xF2F2FF};

std::string file_type(const SongMap& m) {
    std::string ext = std::filesystem::path(m.audio.path).extension().string();
    if (!ext.empty() && ext[0] == '.') ext.erase(0, 1);
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext == "aif" ? "aiff" : ext;
}

}  // namespace

Result<std::string> render_mixxx(const std::vector<SongMap>& maps, const ExportOptions& options) {
    return sqlite_file_bytes("Mixxx", [&](Db& d) -> Result<void> {
        if (!d.exec("BEGIN") || !d.exec(kSchema)) return make_error(ErrorCode::kInternal, "Mixxx schema: " + d.error);
        Stmt loc(d.db,
                 "INSERT INTO track_locations (location, filename, directory, filesize, fs_deleted, "
                 "needs_verification) VALUES (?, ?, ?, ?, 0, 0)");
        Stmt lib(d.db,
                 "INSERT INTO library (artist, title, album, year, genre, tracknumber, location, comment, url, "
                 "duration, bitrate, samplerate, cuepoint, bpm, channels, mixxx_deleted, played, header_parsed, "
                 "filetype, replaygain, key, beats, beats_version, keys, keys_version, keys_sub_version, key_id) "
                 "VALUES (?, ?, ?, '', ?, '', ?, ?, '', ?, ?, ?, ?, ?, ?, 0, 0, 1, ?, ?, ?, ?, ?, ?, ?, '', ?)");
        Stmt cue(d.db,
                 "INSERT INTO cues (track_id, type, position, length, hotcue, label, color) "
                 "VALUES (?, ?, ?, 0, ?, ?, ?)");
        std::vector<std::int64_t> ids;
        for (const auto& m : maps) {
            const std::string path = export_path(m, options);
            const std::filesystem::path p(path);
            if (!loc.text(path)
                     .text(p.filename().string())
                     .text(p.parent_path().string())
                     .integer(m.audio.file_size_bytes)
                     .run())
                return make_error(ErrorCode::kInvalidArgument, "Mixxx export: the file " + path + " is listed twice");
            const std::int64_t loc_id = sqlite3_last_insert_rowid(d.db);
            const double rate = m.audio.sample_rate_hz > 0 ? m.audio.sample_rate_hz : 44100.0;
            // Mixxx keeps cue positions in samples of the interleaved stereo stream (frames x 2).
            auto samples = [&](double t) {
                return static_cast<std::int64_t>(std::llround(std::max(0.0, t) * rate) * 2);
            };
            const bool trusted = downbeats_trusted(m, options.downbeats, options.min_downbeat_confidence);
            const double anchor = bar_anchor_s(m, trusted);
            const auto [beats, beats_version] = beats_blob(m, rate);
            const bool has_key = m.key && m.key->key;
            const std::string key_text = has_key ? dj_key(m, options, KeyNotation::kStandard) : "";
            const std::string keys = has_key ? keys_blob(m, rate, key_text) : "";
            // ReplayGain as Mixxx keeps it: a linear gain ratio (0 = none).
            const double rg =
                (m.loudness && !m.loudness->silent) ? std::pow(10.0, m.loudness->replaygain_track_gain_db / 20.0) : 0.0;
            const auto& tg = m.audio.tags;
            if (!lib.text(tg.artist)
                     .text(title_of(m))
                     .text(tg.album)
                     .text(tg.genre)
                     .integer(loc_id)
                     .text(tg.comment)
                     .real(m.audio.duration_s)
                     .integer(m.audio.bit_rate / 1000)
                     .integer(m.audio.sample_rate_hz)
                     .integer(m.beats && !m.beats->times_s.empty() ? samples(anchor) : 0)
                     .real(m.tempo && m.tempo->bpm ? *m.tempo->bpm : 0.0)
                     .integer(m.audio.channels)
                     .text(file_type(m))
                     .real(rg)
                     .text(key_text)
                     .blob(beats)
                     .text(beats_version)
                     .blob(keys)
                     .text(has_key ? "KeyMap-1.0" : "")
                     .integer(has_key ? chromatic_key(*m.key->key) : 0)
                     .run())
                return make_error(ErrorCode::kInternal, std::string("Mixxx export: ") + sqlite3_errmsg(d.db));
            const std::int64_t id = sqlite3_last_insert_rowid(d.db);
            ids.push_back(id);
            // Main cue (type 2) at the bar anchor; section cues (type 1) on hot cues 1-8.
            if (m.beats && !m.beats->times_s.empty() &&
                !cue.integer(id).integer(2).integer(samples(anchor)).integer(-1).text("").integer(0xFF0000).run())
                return make_error(ErrorCode::kInternal, std::string("Mixxx export: ") + sqlite3_errmsg(d.db));
            if (m.sections && options.cues != CueSource::kNone) {
                const auto cues = hot_cues(cue_points(m, options.cues, trusted), 8);
                for (size_t k = 0; k < cues.size() && k < 8; ++k)
                    if (!cue.integer(id)
                             .integer(1)
                             .integer(samples(cues[k].start_s))
                             .integer(static_cast<std::int64_t>(k))
                             .text(cues[k].name)
                             .integer(kHotCueColors[k])
                             .run())
                        return make_error(ErrorCode::kInternal, std::string("Mixxx export: ") + sqlite3_errmsg(d.db));
            }
        }
        // One playlist with every track; a crate per folder when the tracks come from several.
        if (!d.exec("INSERT INTO Playlists (id, name, position, hidden, date_created, date_modified) "
                    "VALUES (1, 'Harmony', 1, 0, datetime('now'), datetime('now'))"))
            return make_error(ErrorCode::kInternal, "Mixxx playlist: " + d.error);
        Stmt pt(d.db,
                "INSERT INTO PlaylistTracks (playlist_id, track_id, position, pl_datetime_added) "
                "VALUES (1, ?, ?, datetime('now'))");
        for (size_t i = 0; i < ids.size(); ++i) pt.integer(ids[i]).integer(static_cast<std::int64_t>(i + 1)).run();
        Stmt crate(d.db, "INSERT INTO crates (name, count) VALUES (?, ?)");
        Stmt ct(d.db, "INSERT INTO crate_tracks (crate_id, track_id) VALUES (?, ?)");
        for (const auto& [name, members] : folder_playlists(maps)) {
            if (!crate.text(name).integer(static_cast<std::int64_t>(members.size())).run()) continue;
            const std::int64_t cid = sqlite3_last_insert_rowid(d.db);
            for (size_t k : members) ct.integer(cid).integer(ids[k]).run();
        }
        if (!d.exec("COMMIT")) return make_error(ErrorCode::kInternal, "Mixxx export: " + d.error);
        return {};
    });
}

}  // namespace harmony::exporters
