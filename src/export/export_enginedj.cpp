// Engine DJ library database (Denon / Numark Engine DJ 2.x and later; notes and the assumptions
// that could not be checked against Engine DJ itself in src/export/README.md): the `Database2/m.db`
// SQLite file of an "Engine Library" folder at schema version 2.18.0, one Track row per map with
// the performance data in the Track columns: trackData (sample rate, length, key), beatData (the
// beat grid as markers), quickCues (8 hot cues and the main cue) and loops (8 empty slots).
// The layout was learned from libdjinterop's Engine v2 readers and writers (xsco/libdjinterop).
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>

#include "export/export_internal.hpp"
#include "export/grid.hpp"
#include "export/sqlite_file.hpp"

namespace harmony::exporters {

namespace {

// --- byte encoding: Engine mixes big-endian (headers, counts, cues) and little-endian (grid markers, loops).
void put_be(std::string& out, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}
void put_le(std::string& out, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}
std::uint64_t bits_of(double v) {
    std::uint64_t b = 0;
    std::memcpy(&b, &v, sizeof b);
    return b;
}
void put_f64_be(std::string& out, double v) {
    put_be(out, bits_of(v), 8);
}
void put_f64_le(std::string& out, double v) {
    put_le(out, bits_of(v), 8);
}
void put_i64_be(std::string& out, std::int64_t v) {
    put_be(out, static_cast<std::uint64_t>(v), 8);
}
void put_i64_le(std::string& out, std::int64_t v) {
    put_le(out, static_cast<std::uint64_t>(v), 8);
}
void put_i32_be(std::string& out, std::int32_t v) {
    put_be(out, static_cast<std::uint32_t>(v), 4);
}
void put_i32_le(std::string& out, std::int32_t v) {
    put_le(out, static_cast<std::uint32_t>(v), 4);
}

// Qt's qCompress framing, which Engine uses for its blobs: the uncompressed length as a 4-byte
// big-endian integer, then a zlib stream.
Result<std::string> qcompress(const std::string& raw) {
    uLongf n = compressBound(static_cast<uLong>(raw.size()));
    std::string out(4 + n, '\0');
    if (compress2(reinterpret_cast<Bytef*>(out.data() + 4), &n, reinterpret_cast<const Bytef*>(raw.data()),
                  static_cast<uLong>(raw.size()), Z_DEFAULT_COMPRESSION) != Z_OK)
        return make_error(ErrorCode::kInternal, "Engine DJ export: zlib compression failed");
    out.resize(4 + n);
    const auto len = static_cast<std::uint32_t>(raw.size());
    for (int i = 0; i < 4; ++i) out[static_cast<size_t>(i)] = static_cast<char>((len >> (8 * (3 - i))) & 0xFF);
    return out;
}

// Engine's key numbering: around the circle of fifths, each major key followed by its relative
// minor: 0 = C, 1 = Am, 2 = G, 3 = Em, ... 22 = F, 23 = Dm (= 2 x (Open Key number - 1) + minor).
int engine_key(const KeyName& k) {
    const bool minor = k.mode == "minor";
    const int major_pc = minor ? (k.pitch_class + 3) % 12 : k.pitch_class;
    return 2 * ((7 * major_pc) % 12) + (minor ? 1 : 0);
}

// A beat grid marker: a beat's position in frames and its beat number (bar lines where the number
// is a multiple of 4), and how many beats follow at this marker's tempo up to the next marker.
struct Marker {
    double frame = 0.0;
    std::int64_t beat = 0;
    std::int32_t beats_to_next = 0;
};

// Markers from the grid sections: one per tempo section, the first moved back to at or before the
// track's start and a last one at or after its end (so the grid covers the whole file), numbered
// so that the bar anchor is beat 0.
std::vector<Marker> grid_markers(const SongMap& m, double rate, double anchor_s) {
    const auto secs = grid_sections(m);
    if (secs.empty()) return {};
    std::vector<double> t;
    std::vector<std::int64_t> n;
    std::int64_t num = 0;
    for (size_t k = 0; k < secs.size(); ++k) {
        t.push_back(secs[k].start_s);
        n.push_back(num);
        if (k + 1 < secs.size())
            num +=
                std::max<std::int64_t>(1, std::llround((secs[k + 1].start_s - secs[k].start_s) * secs[k].bpm / 60.0));
    }
    // A last marker at or after the file's end (numbered before the first one moves back).
    const double pl = 60.0 / secs.back().bpm;
    const double end_s = std::max(m.audio.duration_s, m.beats->times_s.back());
    const auto fwd =
        std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil((end_s - secs.back().start_s) / pl - 1e-9)));
    const double last_t = secs.back().start_s + static_cast<double>(fwd) * pl;
    const std::int64_t last_n = n.back() + fwd;
    const double p0 = 60.0 / secs.front().bpm;
    const auto back = static_cast<std::int64_t>(std::ceil(std::max(0.0, t.front()) / p0 - 1e-9));
    t.front() -= static_cast<double>(back) * p0;
    n.front() -= back;
    t.push_back(last_t);
    n.push_back(last_n);
    // The anchor's number on this grid, so that it becomes beat 0.
    size_t s = 0;
    while (s + 1 < secs.size() && secs[s + 1].start_s <= anchor_s + 1e-6) ++s;
    const std::int64_t a =
        (s == 0 ? n.front() + back : n[s]) + std::llround((anchor_s - secs[s].start_s) * secs[s].bpm / 60.0);
    std::vector<Marker> out;
    for (size_t k = 0; k < t.size(); ++k) out.push_back({t[k] * rate, n[k] - a, 0});
    for (size_t k = 0; k + 1 < out.size(); ++k)
        out[k].beats_to_next = static_cast<std::int32_t>(out[k + 1].beat - out[k].beat);
    return out;
}

Result<std::string> beat_data_blob(const std::vector<Marker>& markers, double rate, double frames) {
    std::string raw;
    put_f64_be(raw, rate);
    put_f64_be(raw, frames);
    raw += static_cast<char>(markers.empty() ? 0 : 1);  // grid set
    for (int copy = 0; copy < 2; ++copy) {              // the analysed grid, then the adjusted one
        put_i64_be(raw, static_cast<std::int64_t>(markers.size()));
        for (const auto& mk : markers) {
            put_f64_le(raw, mk.frame);
            put_i64_le(raw, mk.beat);
            put_i32_le(raw, mk.beats_to_next);
            put_i32_le(raw, 0);
        }
    }
    raw.append(9, '\0');  // libdjinterop: Engine's own beat data ends with 9 zero bytes
    return qcompress(raw);
}

Result<std::string> track_data_blob(double rate, std::int64_t frames, int key) {
    std::string raw;
    put_f64_be(raw, rate);
    put_i64_be(raw, frames);
    put_i32_be(raw, key);
    for (int band = 0; band < 3; ++band) put_f64_be(raw, 0.0);  // average loudness low/mid/high: not set
    return qcompress(raw);
}

// ARGB pad colours for hot cues 1-8 (Engine's pads show the RGB; alpha 255).
constexpr std::array<std::uint32_t, 8> kPadColors = {0xFFEA3F3F, 0xFFF2A03C, 0xFFF5D34A, 0xFF3FBF5A,
                                                     0xFF3FB7E3, 0xFF4D6DE3, 0xFFA24DE3, 0xFFE34DB8};

Result<std::string> quick_cues_blob(const std::vector<Cue>& cues, double rate, double main_cue_frame) {
    std::string raw;
    put_i64_be(raw, 8);
    for (size_t k = 0; k < 8; ++k) {
        if (k < cues.size()) {
            const std::string label = cues[k].name.substr(0, 255);
            raw += static_cast<char>(label.size());
            raw += label;
            put_f64_be(raw, std::max(0.0, cues[k].start_s) * rate);
            put_be(raw, kPadColors[k], 4);
        } else {
            raw += '\0';            // no label
            put_f64_be(raw, -1.0);  // -1: slot not set
            put_be(raw, 0, 4);
        }
    }
    put_f64_be(raw, main_cue_frame);  // adjusted main cue
    raw += '\1';                      // the main cue is the adjusted one
    put_f64_be(raw, main_cue_frame);  // default main cue
    return qcompress(raw);
}

// Eight empty loop slots; Engine keeps loops uncompressed and little-endian.
std::string empty_loops_blob() {
    std::string raw;
    put_i64_le(raw, 8);
    for (int k = 0; k < 8; ++k) {
        raw += '\0';
        put_f64_le(raw, -1.0);
        put_f64_le(raw, -1.0);
        raw += '\0';  // start set
        raw += '\0';  // end set
        put_le(raw, 0, 4);
    }
    return raw;
}

// The Track path as Engine keeps it: relative to the "Engine Library" folder when both are on the
// same drive, else absolute. A drive is a Windows drive letter, or on POSIX the first path
// component ("/home"), or the volume under a mount-point folder ("/Volumes/USB", "/mnt/usb",
// "/media/me/USB", "/run/media/me/USB"): a library on the system disk refers to a USB stick's tracks by absolute path.
std::string engine_path(const std::string& path, const std::string& library_dir) {
    if (library_dir.empty()) return path;
    namespace fs = std::filesystem;
    auto drive = [](const std::string& p) -> std::string {
        if (p.size() >= 2 && std::isalpha(static_cast<unsigned char>(p[0])) && p[1] == ':')
            return std::string(1, static_cast<char>(std::toupper(static_cast<unsigned char>(p[0])))) + ":";
        if (p.rfind('/', 0) != 0) return "";
        std::vector<std::string> parts;
        for (const auto& c : fs::path(p).relative_path()) parts.push_back(c.string());
        if (parts.empty()) return "/";
        const bool mounts = parts[0] == "Volumes" || parts[0] == "media" || parts[0] == "mnt" || parts[0] == "run";
        std::string d = "/" + parts[0];
        // /Volumes/USB, /mnt/usb, /media/USER/USB, /run/media/USER/USB
        const size_t depth = !mounts ? 1 : parts[0] == "run" ? 4 : parts[0] == "media" ? 3 : 2;
        for (size_t k = 1; k < parts.size() && k < depth; ++k) d += "/" + parts[k];
        return d;
    };
    const std::string dp = drive(path), dl = drive(library_dir);
    if (dp.empty() || dp != dl) return path;
    const size_t skip = dp.size() == 2 && dp[1] == ':' ? 2 : 0;
    const fs::path rel = fs::path(path.substr(skip)).lexically_relative(fs::path(library_dir.substr(skip)));
    return rel.empty() ? path : rel.generic_string();
}

std::string random_uuid() {
    std::random_device rd;
    std::array<unsigned char, 16> b{};
    for (auto& c : b) c = static_cast<unsigned char>(rd() & 0xFF);
    b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
    b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
    static const char* kHex = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < b.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
        s += kHex[b[i] >> 4];
        s += kHex[b[i] & 0x0F];
    }
    return s;
}

std::string file_type(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    if (!ext.empty() && ext[0] == '.') ext.erase(0, 1);
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext;
}

// Engine Library schema 2.18.0: tables, indices, views and triggers as Engine DJ 2.x creates them
// (column names and types as listed by libdjinterop's schema check, including Engine's own
// spellings "isPerfomanceDataOfPackedTrackChanged" and "currentPlayedIndiciator").
constexpr const char* kSchema = R"SQL(
CREATE TABLE Information (id INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT, schemaVersionMajor INTEGER,
  schemaVersionMinor INTEGER, schemaVersionPatch INTEGER, currentPlayedIndiciator INTEGER,
  lastRekordBoxLibraryImportReadCounter INTEGER);
CREATE TABLE Track (id INTEGER PRIMARY KEY AUTOINCREMENT, playOrder INTEGER, length INTEGER, bpm INTEGER,
  year INTEGER, path TEXT, filename TEXT, bitrate INTEGER, bpmAnalyzed REAL, albumArtId INTEGER,
  fileBytes INTEGER, title TEXT, artist TEXT, album TEXT, genre TEXT, comment TEXT, label TEXT, composer TEXT,
  remixer TEXT, key INTEGER, rating INTEGER, albumArt TEXT, timeLastPlayed DATETIME, isPlayed BOOLEAN,
  fileType TEXT, isAnalyzed BOOLEAN, dateCreated DATETIME, dateAdded DATETIME, isAvailable BOOLEAN,
  isMetadataOfPackedTrackChanged BOOLEAN, isPerfomanceDataOfPackedTrackChanged BOOLEAN,
  playedIndicator INTEGER, isMetadataImported BOOLEAN, pdbImportKey INTEGER, streamingSource TEXT, uri TEXT,
  isBeatGridLocked BOOLEAN, originDatabaseUuid TEXT, originTrackId INTEGER, trackData BLOB,
  overviewWaveFormData BLOB, beatData BLOB, quickCues BLOB, loops BLOB, thirdPartySourceId INTEGER,
  streamingFlags INTEGER, explicitLyrics BOOLEAN,
  CONSTRAINT C_originDatabaseUuid_originTrackId UNIQUE (originDatabaseUuid, originTrackId),
  CONSTRAINT C_path UNIQUE (path), FOREIGN KEY (albumArtId) REFERENCES AlbumArt (id) ON DELETE RESTRICT);
CREATE TABLE ChangeLog (id INTEGER PRIMARY KEY AUTOINCREMENT, trackId INTEGER,
  FOREIGN KEY (trackId) REFERENCES Track (id) ON DELETE SET NULL);
CREATE TABLE AlbumArt (id INTEGER PRIMARY KEY AUTOINCREMENT, hash TEXT, albumArt BLOB);
CREATE TABLE Pack (id INTEGER PRIMARY KEY AUTOINCREMENT, packId TEXT, changeLogDatabaseUuid TEXT,
  changeLogId INTEGER);
CREATE TABLE PlaylistEntity (id INTEGER PRIMARY KEY AUTOINCREMENT, listId INTEGER, trackId INTEGER,
  databaseUuid TEXT, nextEntityId INTEGER, membershipReference INTEGER,
  CONSTRAINT C_NAME_UNIQUE_FOR_LIST UNIQUE (listId, databaseUuid, trackId),
  FOREIGN KEY (listId) REFERENCES Playlist (id) ON DELETE CASCADE);
CREATE TABLE Playlist (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT, parentListId INTEGER,
  isPersisted BOOLEAN, nextListId INTEGER, lastEditTime DATETIME, isExplicitlyExported BOOLEAN,
  CONSTRAINT C_NAME_UNIQUE_FOR_PARENT UNIQUE (title, parentListId),
  CONSTRAINT C_NEXT_LIST_ID_UNIQUE_FOR_PARENT UNIQUE (parentListId, nextListId));
CREATE TABLE PreparelistEntity (id INTEGER PRIMARY KEY AUTOINCREMENT, trackId INTEGER, trackNumber INTEGER,
  FOREIGN KEY (trackId) REFERENCES Track (id) ON DELETE CASCADE);
CREATE INDEX index_Track_filename ON Track (filename);
CREATE INDEX index_Track_albumArtId ON Track (albumArtId);
CREATE INDEX index_Track_uri ON Track (uri);
CREATE INDEX index_AlbumArt_hash ON AlbumArt (hash);
CREATE INDEX index_PreparelistEntity_trackId ON PreparelistEntity (trackId);
CREATE TRIGGER trigger_after_insert_Track_check_id AFTER INSERT ON Track
  WHEN NEW.id <= (SELECT seq FROM sqlite_sequence WHERE name = 'Track')
  BEGIN SELECT RAISE(ABORT, 'Recycling deleted track id''s are not allowed'); END;
CREATE TRIGGER trigger_after_update_Track_check_Id BEFORE UPDATE ON Track WHEN NEW.id <> OLD.id
  BEGIN SELECT RAISE(ABORT, 'Changing track id''s are not allowed'); END;
CREATE TRIGGER trigger_after_insert_Track_fix_origin AFTER INSERT ON Track
  WHEN IFNULL(NEW.originTrackId, 0) = 0 OR IFNULL(NEW.originDatabaseUuid, '') = ''
  BEGIN UPDATE Track SET originTrackId = NEW.id, originDatabaseUuid = (SELECT uuid FROM Information)
  WHERE track.id = NEW.id; END;
CREATE TRIGGER trigger_after_update_Track_fix_origin AFTER UPDATE ON Track
  WHEN IFNULL(NEW.originTrackId, 0) = 0 OR IFNULL(NEW.originDatabaseUuid, '') = ''
  BEGIN UPDATE Track SET originTrackId = NEW.id, originDatabaseUuid = (SELECT uuid FROM Information)
  WHERE track.id = NEW.id; END;
CREATE TRIGGER trigger_after_update_Track AFTER UPDATE ON Track FOR EACH ROW
  BEGIN INSERT INTO ChangeLog (trackId) VALUES (NEW.id); END;
CREATE TRIGGER trigger_before_insert_List BEFORE INSERT ON Playlist FOR EACH ROW
  BEGIN UPDATE Playlist SET nextListId = -(1 + nextListId)
  WHERE nextListId = NEW.nextListId AND parentListId = NEW.parentListId; END;
CREATE TRIGGER trigger_after_insert_List AFTER INSERT ON Playlist FOR EACH ROW
  BEGIN UPDATE Playlist SET nextListId = NEW.id
  WHERE nextListId = -(1 + NEW.nextListId) AND parentListId = NEW.parentListId; END;
CREATE TRIGGER trigger_after_delete_List AFTER DELETE ON Playlist FOR EACH ROW
  BEGIN UPDATE Playlist SET nextListId = OLD.nextListId WHERE nextListId = OLD.id;
  DELETE FROM Playlist WHERE parentListId = OLD.id; END;
CREATE VIEW PlaylistAllParent AS WITH FindAllParent AS (
  SELECT id, parentListId FROM Playlist UNION ALL
  SELECT recursiveCTE.id, Plist.parentListId FROM Playlist Plist
  INNER JOIN FindAllParent recursiveCTE ON recursiveCTE.parentListId = Plist.id)
  SELECT * FROM FindAllParent;
CREATE VIEW PlaylistAllChildren AS WITH FindAllChild AS (
  SELECT id, id AS childListId FROM Playlist UNION ALL
  SELECT recursiveCTE.id, Plist.id FROM Playlist Plist
  INNER JOIN FindAllChild recursiveCTE ON recursiveCTE.childListId = Plist.parentListId)
  SELECT * FROM FindAllChild WHERE id <> childListId;
CREATE VIEW PlaylistPath AS WITH RECURSIVE Heirarchy AS (
  SELECT id AS child, parentListId AS parent, title AS name, 1 AS depth FROM Playlist UNION ALL
  SELECT child, parentListId AS parent, title AS name, h.depth + 1 AS depth FROM Playlist c
  JOIN Heirarchy h ON h.parent = c.id ORDER BY depth DESC),
  OrderedList AS (SELECT id, nextListId, 1 AS position FROM Playlist WHERE nextListId = 0 UNION ALL
  SELECT c.id, c.nextListId, l.position + 1 FROM Playlist c INNER JOIN OrderedList l ON c.nextListId = l.id),
  NameConcat AS (SELECT child AS id, GROUP_CONCAT(name, ';') || ';' AS path FROM
  (SELECT child, name FROM Heirarchy ORDER BY depth DESC) GROUP BY child)
  SELECT id, path, ROW_NUMBER() OVER (ORDER BY (SELECT COUNT(*) FROM (SELECT * FROM Heirarchy WHERE child = id))
  DESC, (SELECT position FROM OrderedList ol WHERE ol.id = c.id) ASC) AS position
  FROM Playlist c LEFT JOIN NameConcat g USING (id);
CREATE TRIGGER trigger_after_update_isPersistParent AFTER UPDATE ON Playlist
  WHEN (old.isPersisted = 0 AND new.isPersisted = 1) OR
  (old.parentListId != new.parentListId AND new.isPersisted = 1)
  BEGIN UPDATE Playlist SET isPersisted = 1
  WHERE id IN (SELECT parentListId FROM PlaylistAllParent WHERE id = new.id); END;
CREATE TRIGGER trigger_after_update_isPersistChild AFTER UPDATE ON Playlist
  WHEN old.isPersisted = 1 AND new.isPersisted = 0
  BEGIN UPDATE Playlist SET isPersisted = 0
  WHERE id IN (SELECT childListId FROM PlaylistAllChildren WHERE id = new.id); END;
CREATE TRIGGER trigger_after_insert_isPersist AFTER INSERT ON Playlist WHEN new.isPersisted = 1
  BEGIN UPDATE Playlist SET isPersisted = 1
  WHERE id IN (SELECT parentListId FROM PlaylistAllParent WHERE id = new.id); END;
CREATE TRIGGER trigger_before_delete_PlaylistEntity BEFORE DELETE ON PlaylistEntity WHEN OLD.trackId > 0
  BEGIN UPDATE PlaylistEntity SET nextEntityId = OLD.nextEntityId
  WHERE nextEntityId = OLD.id AND listId = OLD.listId; END;
CREATE VIEW PerformanceData AS SELECT id AS trackId, isAnalyzed, trackData, overviewWaveFormData, beatData,
  quickCues, loops, thirdPartySourceId FROM Track;
CREATE TRIGGER trigger_instead_insert_PerformanceData INSTEAD OF INSERT ON PerformanceData FOR EACH ROW
  BEGIN UPDATE Track SET isAnalyzed = NEW.isAnalyzed, trackData = NEW.trackData,
  overviewWaveFormData = NEW.overviewWaveFormData, beatData = NEW.beatData, quickCues = NEW.quickCues,
  loops = NEW.loops, thirdPartySourceId = NEW.thirdPartySourceId WHERE Track.id = NEW.trackId; END;
CREATE TRIGGER trigger_instead_delete_PerformanceData INSTEAD OF DELETE ON PerformanceData FOR EACH ROW
  BEGIN UPDATE Track SET isAnalyzed = NULL, trackData = NULL, overviewWaveFormData = NULL, beatData = NULL,
  quickCues = NULL, loops = NULL, thirdPartySourceId = NULL WHERE Track.id = OLD.trackId; END;
INSERT INTO AlbumArt (id, hash, albumArt) VALUES (1, '', NULL);
)SQL";

// One INSTEAD OF UPDATE trigger per column of the PerformanceData view (Engine names them
// trigger_instead_update_<column>_PerformanceData).
bool create_view_update_triggers(Db& d) {
    for (const char* col :
         {"isAnalyzed", "trackData", "overviewWaveFormData", "beatData", "quickCues", "loops", "thirdPartySourceId"}) {
        const std::string c = col;
        const std::string sql = "CREATE TRIGGER trigger_instead_update_" + c +
                                "_PerformanceData INSTEAD OF UPDATE OF " + c +
                                " ON PerformanceData FOR EACH ROW BEGIN UPDATE Track SET " + c + " = NEW." + c +
                                " WHERE Track.id = NEW.trackId; END;";
        if (!d.exec(sql.c_str())) return false;
    }
    return true;
}

Result<void> fail(sqlite3* db) {
    return make_error(ErrorCode::kInternal, std::string("Engine DJ export: ") + sqlite3_errmsg(db));
}

}  // namespace

Result<std::string> render_enginedj(const std::vector<SongMap>& maps, const ExportOptions& options) {
    return sqlite_file_bytes("Engine DJ", [&](Db& d) -> Result<void> {
        if (!d.exec("BEGIN") || !d.exec(kSchema) || !create_view_update_triggers(d))
            return make_error(ErrorCode::kInternal, "Engine DJ schema: " + d.error);
        const std::string uuid = random_uuid();
        {
            Stmt info(d.db,
                      "INSERT INTO Information (uuid, schemaVersionMajor, schemaVersionMinor, schemaVersionPatch, "
                      "currentPlayedIndiciator, lastRekordBoxLibraryImportReadCounter) VALUES (?, 2, 18, 0, 0, 0)");
            if (!info.text(uuid).run()) return fail(d.db);
        }
        const std::string library_dir =
            options.engine_library_dir.empty() ? "" : map_export_path(options.engine_library_dir, options.path_map);
        Stmt track(d.db,
                   "INSERT INTO Track (length, bpm, path, filename, bitrate, bpmAnalyzed, albumArtId, fileBytes, "
                   "title, artist, album, genre, comment, composer, key, rating, isPlayed, fileType, isAnalyzed, "
                   "dateCreated, dateAdded, isAvailable, isMetadataOfPackedTrackChanged, "
                   "isPerfomanceDataOfPackedTrackChanged, isMetadataImported, pdbImportKey, isBeatGridLocked, "
                   "originDatabaseUuid, trackData, beatData, quickCues, loops, streamingFlags, explicitLyrics) "
                   "VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, '', ?, 0, 0, ?, 1, strftime('%s', 'now'), "
                   "strftime('%s', 'now'), 1, 0, 0, 1, 0, 0, ?, ?, ?, ?, ?, 0, 0)");
        std::vector<std::int64_t> ids;
        for (const auto& m : maps) {
            const std::string path = engine_path(export_path(m, options), library_dir);
            const double rate = m.audio.sample_rate_hz > 0 ? m.audio.sample_rate_hz : 44100.0;
            const auto frames = static_cast<std::int64_t>(std::llround(std::max(0.0, m.audio.duration_s) * rate));
            const bool has_beats = m.beats && !m.beats->times_s.empty();
            const bool trusted = downbeats_trusted(m, options.downbeats, options.min_downbeat_confidence);
            const double anchor = has_beats ? bar_anchor_s(m, trusted) : 0.0;
            const bool has_key = m.key && m.key->key;
            const int key = has_key ? engine_key(*m.key->key) : 0;
            const double bpm = m.tempo && m.tempo->bpm ? *m.tempo->bpm : 0.0;
            std::vector<Cue> cues;
            if (has_beats && m.sections && options.cues != CueSource::kNone)
                cues = hot_cues(cue_points(m, options.cues, trusted), 8);
            auto td = track_data_blob(rate, frames, key);
            auto bd = beat_data_blob(has_beats ? grid_markers(m, rate, anchor) : std::vector<Marker>{}, rate,
                                     static_cast<double>(frames));
            auto qc = quick_cues_blob(cues, rate, anchor * rate);
            if (!td) return td.error();
            if (!bd) return bd.error();
            if (!qc) return qc.error();
            track.integer(std::llround(m.audio.duration_s)).integer(std::llround(bpm)).text(path);
            track.text(std::filesystem::path(path).filename().string())
                .integer(m.audio.bit_rate / 1000)
                .real(bpm)
                .integer(m.audio.file_size_bytes);
            const auto& tg = m.audio.tags;
            track.text(title_of(m)).text(tg.artist).text(tg.album).text(tg.genre).text(tg.comment);
            if (has_key)
                track.integer(key);
            else
                sqlite3_bind_null(track.st, ++track.i);
            track.text(file_type(path)).text(uuid).blob(*td).blob(*bd).blob(*qc).blob(empty_loops_blob());
            if (!track.run()) {
                if (sqlite3_errcode(d.db) == SQLITE_CONSTRAINT)
                    return make_error(ErrorCode::kInvalidArgument,
                                      "Engine DJ export: the file " + path + " is listed twice");
                return fail(d.db);
            }
            ids.push_back(sqlite3_last_insert_rowid(d.db));
        }
        // Playlists: "Harmony" with every track, and one per folder under "Folders" when the tracks
        // come from several. Lists and their entries are linked lists (nextListId / nextEntityId);
        // the Playlist triggers above link each new list after its parent's last one.
        Stmt list(d.db,
                  "INSERT INTO Playlist (title, parentListId, isPersisted, nextListId, lastEditTime, "
                  "isExplicitlyExported) VALUES (?, ?, 1, 0, strftime('%s', 'now'), 1)");
        Stmt entity(d.db,
                    "INSERT INTO PlaylistEntity (id, listId, trackId, databaseUuid, nextEntityId, "
                    "membershipReference) VALUES (?, ?, ?, ?, ?, 0)");
        std::int64_t next_entity = 1;
        auto add_list = [&](const std::string& title, std::int64_t parent,
                            const std::vector<size_t>& members) -> Result<std::int64_t> {
            if (!list.text(title).integer(parent).run()) return fail(d.db).error();
            const std::int64_t id = sqlite3_last_insert_rowid(d.db);
            for (size_t k = 0; k < members.size(); ++k, ++next_entity)
                if (!entity.integer(next_entity)
                         .integer(id)
                         .integer(ids[members[k]])
                         .text(uuid)
                         .integer(k + 1 < members.size() ? next_entity + 1 : 0)
                         .run())
                    return fail(d.db).error();
            return id;
        };
        std::vector<size_t> all(maps.size());
        for (size_t i = 0; i < all.size(); ++i) all[i] = i;
        if (auto r = add_list("Harmony", 0, all); !r) return r.error();
        const auto folders = folder_playlists(maps);
        if (!folders.empty()) {
            auto parent = add_list("Folders", 0, {});
            if (!parent) return parent.error();
            for (const auto& [name, members] : folders)
                if (auto r = add_list(name, *parent, members); !r) return r.error();
        }
        if (!d.exec("COMMIT")) return make_error(ErrorCode::kInternal, "Engine DJ export: " + d.error);
        return {};
    });
}

}  // namespace harmony::exporters
