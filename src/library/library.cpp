// The SQLite track library (library.hpp). Tables:
//   analyses(content_hash, config_key) -> Song Map JSON + query columns (bpm, key, energy, ...)
//   files(path) -> size, mtime, content_hash (where each content lives; a hash cache)
#include "library/library.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>

#include "core/hash.hpp"
#include "harmony/export.hpp"
#include "harmony/version.hpp"

namespace harmony::library {

namespace fs = std::filesystem;

namespace {

// 1: whole-file content hashes. 2: audio-only hashes (core::hash_audio_file), artist column;
// open() migrates a version-1 library in place.
constexpr int kLibrarySchemaVersion = 2;

constexpr const char* kSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS analyses(
  id INTEGER PRIMARY KEY,
  content_hash TEXT NOT NULL,
  config_key TEXT NOT NULL,
  title TEXT NOT NULL,
  artist TEXT,
  duration_s REAL NOT NULL,
  bpm REAL,
  key_label TEXT,
  camelot TEXT,
  open_key TEXT,
  integrated_lufs REAL,
  energy INTEGER,
  truncated INTEGER NOT NULL DEFAULT 0,
  analyzers TEXT NOT NULL,
  analyzed_at TEXT NOT NULL,
  song_map TEXT NOT NULL,
  UNIQUE(content_hash, config_key));
CREATE INDEX IF NOT EXISTS analyses_hash ON analyses(content_hash, analyzed_at);
CREATE TABLE IF NOT EXISTS files(
  path TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  content_hash TEXT NOT NULL,
  seen_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS files_hash ON files(content_hash);
)sql";

std::string now_iso() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

bool stat_file(const std::string& path, std::int64_t& size, std::int64_t& mtime_ns) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    size = static_cast<std::int64_t>(st.st_size);
    mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
    return true;
}

// RAII statement.
class Stmt {
public:
    Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
    ~Stmt() { sqlite3_finalize(s_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    bool ok() const { return rc_ == SQLITE_OK; }
    sqlite3_stmt* get() { return s_; }
    void text(int i, const std::string& v) {
        sqlite3_bind_text(s_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    void i64(int i, std::int64_t v) { sqlite3_bind_int64(s_, i, v); }
    void real(int i, double v) { sqlite3_bind_double(s_, i, v); }
    void null(int i) { sqlite3_bind_null(s_, i); }
    int step() { return sqlite3_step(s_); }
    std::string col_text(int i) {
        const auto* p = sqlite3_column_text(s_, i);
        return p ? reinterpret_cast<const char*>(p) : "";
    }
    bool col_null(int i) { return sqlite3_column_type(s_, i) == SQLITE_NULL; }

private:
    sqlite3_stmt* s_ = nullptr;
    int rc_ = SQLITE_ERROR;
};

// Version 1 -> 2: the artist column, and audio-only content hashes. Each known file that still
// exists is hashed again; its analyses move to the new hash (two files that differed only in
// their tags now share one content; the newest analysis per configuration stays). Paths that
// are gone keep their old hash until `library prune`.
Result<void> migrate_v1(sqlite3* db) {
    bool has_artist = false;
    {
        Stmt s(db, "PRAGMA table_info(analyses)");
        while (s.step() == SQLITE_ROW)
            if (s.col_text(1) == "artist") has_artist = true;
    }
    if (!has_artist &&
        sqlite3_exec(db, "ALTER TABLE analyses ADD COLUMN artist TEXT", nullptr, nullptr, nullptr) != SQLITE_OK)
        return make_error(ErrorCode::kIoError, sqlite3_errmsg(db));
    std::vector<std::pair<std::string, std::string>> files;  // path, old hash
    {
        Stmt s(db, "SELECT path, content_hash FROM files");
        while (s.step() == SQLITE_ROW) files.emplace_back(s.col_text(0), s.col_text(1));
    }
    std::map<std::string, std::string> renamed;  // old -> new hash
    for (const auto& [path, old_hash] : files) {
        std::error_code ec;
        if (!fs::is_regular_file(path, ec)) continue;
        auto h = core::hash_audio_file(path);
        if (!h || *h == old_hash) continue;
        Stmt u(db, "UPDATE files SET content_hash=?1 WHERE path=?2");
        u.text(1, *h);
        u.text(2, path);
        if (u.step() != SQLITE_DONE) return make_error(ErrorCode::kIoError, sqlite3_errmsg(db));
        renamed.emplace(old_hash, *h);
    }
    for (const auto& [old_hash, new_hash] : renamed) {
        // Newest first, so that of two analyses landing on one (hash, config) the newest stays.
        Stmt u(db,
               "UPDATE OR IGNORE analyses SET content_hash=?2, song_map=replace(song_map, ?1, ?2) "
               "WHERE id IN (SELECT id FROM analyses WHERE content_hash=?1 ORDER BY analyzed_at DESC)");
        u.text(1, old_hash);
        u.text(2, new_hash);
        if (u.step() != SQLITE_DONE) return make_error(ErrorCode::kIoError, sqlite3_errmsg(db));
        // Analyses of the old hash that collided and that no remaining path holds.
        Stmt d(db,
               "DELETE FROM analyses WHERE content_hash=?1 AND NOT EXISTS (SELECT 1 FROM files WHERE "
               "content_hash=?1)");
        d.text(1, old_hash);
        if (d.step() != SQLITE_DONE) return make_error(ErrorCode::kIoError, sqlite3_errmsg(db));
    }
    return {};
}

}  // namespace

std::string default_library_path() {
    if (const char* p = std::getenv("HARMONY_LIBRARY"); p && *p) return p;
    fs::path base;
    if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x && fs::path(x).is_absolute()) {
        base = x;
    } else if (const char* h = std::getenv("HOME"); h && *h) {
        base = fs::path(h) / ".local" / "share";
    } else {
        base = fs::current_path();
    }
    return (base / "harmony" / "library.sqlite").string();
}

Result<std::string> config_key(const AnalysisRequest& request, const EngineOptions& options) {
    EngineOptions o;
    o.analysis_rate_hz = options.analysis_rate_hz;
    o.segment_s = options.segment_s;
    o.segment_overlap_s = options.segment_overlap_s;
    return Engine(o).cache_key(request);
}

std::string normalise_camelot(const std::string& text) {
    std::string t;
    for (char c : text)
        if (!std::isspace(static_cast<unsigned char>(c))) t += c;
    if (t.empty()) return {};
    // Camelot "8A" / Open Key "1m" / "1d".
    size_t i = 0;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
    if (i > 0 && i + 1 == t.size()) {
        const int n = std::atoi(t.substr(0, i).c_str());
        const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(t[i])));
        if (n >= 1 && n <= 12) {
            if (l == 'a' || l == 'b') return std::to_string(n) + static_cast<char>(std::toupper(l));
            if (l == 'm' || l == 'd') {
                const int cam = ((n - 1 - 4 + 7 * 12 - 1) % 12) + 1;  // inverse of OK = ((C + 4) mod 12) + 1
                return std::to_string(cam) + (l == 'm' ? "A" : "B");
            }
        }
        return {};
    }
    // Standard: tonic [#b] then m / min / minor / maj / major.
    static const char* kNames[] = {"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"};
    static const char* kFlats[] = {"C", "Db", "D", "Eb", "Fb", "F", "Gb", "G", "Ab", "A", "Bb", "Cb"};
    std::string tonic(1, static_cast<char>(std::toupper(static_cast<unsigned char>(t[0]))));
    size_t j = 1;
    if (j < t.size() && (t[j] == '#' || t[j] == 'b')) tonic += t[j++];
    std::string rest = t.substr(j);
    std::transform(rest.begin(), rest.end(), rest.begin(), [](unsigned char c) { return std::tolower(c); });
    bool minor;
    if (rest.empty() || rest == "maj" || rest == "major")
        minor = false;
    else if (rest == "m" || rest == "min" || rest == "minor")
        minor = true;
    else
        return {};
    for (int pc = 0; pc < 12; ++pc)
        if (tonic == kNames[pc] || tonic == kFlats[pc]) return camelot_for(pc, minor);
    if (tonic == "E#") return camelot_for(5, minor);
    if (tonic == "B#") return camelot_for(0, minor);
    return {};
}

struct Library::Impl {
    std::string path;
    sqlite3* db = nullptr;
    std::mutex mu;
    ~Impl() {
        if (db) sqlite3_close_v2(db);
    }
    Error err(const std::string& what) const {
        return make_error(ErrorCode::kIoError, "library " + path + ": " + what + ": " + sqlite3_errmsg(db));
    }
    Result<void> exec(const char* sql) {
        char* msg = nullptr;
        if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
            std::string m = msg ? msg : "error";
            sqlite3_free(msg);
            return make_error(ErrorCode::kIoError, "library " + path + ": " + m);
        }
        return {};
    }
};

Library::Library(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Library::~Library() = default;

const std::string& Library::path() const {
    return impl_->path;
}

Result<std::unique_ptr<Library>> Library::open(const std::string& path) {
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    std::error_code ec;
    const fs::path parent = fs::path(path).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
    if (sqlite3_open_v2(path.c_str(), &impl->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
        const std::string msg = impl->db ? sqlite3_errmsg(impl->db) : "out of memory";
        return make_error(ErrorCode::kIoError, "cannot open library " + path + ": " + msg);
    }
    sqlite3_busy_timeout(impl->db, 10000);
    // WAL: readers never block the writer; a killed process leaves committed transactions intact
    // and the last, uncommitted one is rolled back on the next open. synchronous=NORMAL is
    // durable across process crashes (only an OS crash may lose the newest transactions).
    if (auto r = impl->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"); !r)
        return r.error();
    if (auto r = impl->exec("BEGIN IMMEDIATE;"); !r) return r.error();
    if (auto r = impl->exec(kSchemaSql); !r) {
        (void)impl->exec("ROLLBACK;");
        return r.error();
    }
    int found_version = 0;
    {
        Stmt v(impl->db, "SELECT value FROM meta WHERE key='schema_version'");
        if (v.step() == SQLITE_ROW) found_version = std::atoi(v.col_text(0).c_str());
    }
    if (found_version > 0 && found_version < kLibrarySchemaVersion) {
        if (auto r = migrate_v1(impl->db); !r) {
            (void)impl->exec("ROLLBACK;");
            return make_error(ErrorCode::kIoError, "library " + path + ": migration failed: " + r.error().message);
        }
    }
    if (found_version < kLibrarySchemaVersion) {
        Stmt s(impl->db, "INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', ?1)");
        s.text(1, std::to_string(kLibrarySchemaVersion));
        s.step();
    }
    if (auto r = impl->exec("COMMIT;"); !r) return r.error();
    Stmt v(impl->db, "SELECT value FROM meta WHERE key='schema_version'");
    if (v.step() == SQLITE_ROW && std::atoi(v.col_text(0).c_str()) > kLibrarySchemaVersion)
        return make_error(ErrorCode::kIoError, "library " + path + " was written by a newer Harmony");
    return std::unique_ptr<Library>(new Library(std::move(impl)));
}

Result<std::string> Library::content_hash_of(const std::string& file_path) {
    std::int64_t size = 0, mtime = 0;
    const std::string abs = fs::absolute(file_path).lexically_normal().string();
    if (stat_file(abs, size, mtime)) {
        std::lock_guard lock(impl_->mu);
        Stmt s(impl_->db, "SELECT content_hash FROM files WHERE path=?1 AND size=?2 AND mtime_ns=?3");
        s.text(1, abs);
        s.i64(2, size);
        s.i64(3, mtime);
        if (s.step() == SQLITE_ROW) return s.col_text(0);
    }
    return core::hash_audio_file(file_path);
}

Result<std::optional<std::string>> Library::find(const std::string& content_hash, const std::string& cfg) {
    std::lock_guard lock(impl_->mu);
    Stmt s(impl_->db, "SELECT song_map FROM analyses WHERE content_hash=?1 AND config_key=?2");
    if (!s.ok()) return impl_->err("query");
    s.text(1, content_hash);
    s.text(2, cfg);
    const int rc = s.step();
    if (rc == SQLITE_ROW) return std::optional<std::string>(s.col_text(0));
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    return impl_->err("query");
}

namespace {

// Upsert the location row and forget vanished paths that held the same content (renames).
bool store_location(sqlite3* db, const std::string& abs, const std::string& hash, const std::string& now) {
    std::int64_t size = 0, mtime = 0;
    if (!stat_file(abs, size, mtime)) return true;  // vanished meanwhile: nothing to remember
    {
        Stmt s(db,
               "INSERT INTO files(path, size, mtime_ns, content_hash, seen_at) VALUES(?1, ?2, ?3, ?4, ?5) "
               "ON CONFLICT(path) DO UPDATE SET size=excluded.size, mtime_ns=excluded.mtime_ns, "
               "content_hash=excluded.content_hash, seen_at=excluded.seen_at");
        s.text(1, abs);
        s.i64(2, size);
        s.i64(3, mtime);
        s.text(4, hash);
        s.text(5, now);
        if (s.step() != SQLITE_DONE) return false;
    }
    std::vector<std::string> stale;
    {
        Stmt s(db, "SELECT path FROM files WHERE content_hash=?1 AND path<>?2");
        s.text(1, hash);
        s.text(2, abs);
        while (s.step() == SQLITE_ROW) {
            std::string p = s.col_text(0);
            std::error_code ec;
            if (!fs::exists(p, ec)) stale.push_back(std::move(p));
        }
    }
    for (const auto& p : stale) {
        Stmt s(db, "DELETE FROM files WHERE path=?1");
        s.text(1, p);
        if (s.step() != SQLITE_DONE) return false;
    }
    return true;
}

}  // namespace

Result<void> Library::record(const std::string& file_path, const SongMap& map, const std::string& json,
                             const std::string& cfg) {
    const std::string abs = fs::absolute(file_path).lexically_normal().string();
    const std::string now = now_iso();
    std::string analyzers;
    auto add = [&](const Provenance& p) {
        if (!p.analyzer.empty() && analyzers.find(p.analyzer + "@") == std::string::npos)
            analyzers += (analyzers.empty() ? "" : ",") + p.analyzer + "@" + std::to_string(p.version);
    };
    if (map.tempo) add(map.tempo->provenance);
    if (map.beats) add(map.beats->provenance);
    if (map.key) add(map.key->provenance);
    if (map.loudness) add(map.loudness->provenance);
    if (map.chords) add(map.chords->provenance);
    if (map.sections) add(map.sections->provenance);

    std::lock_guard lock(impl_->mu);
    if (auto r = impl_->exec("BEGIN IMMEDIATE;"); !r) return r.error();
    bool ok = true;
    {
        Stmt s(impl_->db,
               "INSERT INTO analyses(content_hash, config_key, title, duration_s, bpm, key_label, camelot, open_key, "
               "integrated_lufs, energy, truncated, analyzers, analyzed_at, song_map, artist) "
               "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15) "
               "ON CONFLICT(content_hash, config_key) DO UPDATE SET title=excluded.title, artist=excluded.artist, "
               "duration_s=excluded.duration_s, bpm=excluded.bpm, key_label=excluded.key_label, "
               "camelot=excluded.camelot, open_key=excluded.open_key, integrated_lufs=excluded.integrated_lufs, "
               "energy=excluded.energy, truncated=excluded.truncated, analyzers=excluded.analyzers, "
               "analyzed_at=excluded.analyzed_at, song_map=excluded.song_map");
        s.text(1, map.audio.content_hash);
        s.text(2, cfg);
        s.text(3, map.audio.tags.title.empty() ? fs::path(file_path).stem().string() : map.audio.tags.title);
        s.real(4, map.audio.duration_s);
        if (map.tempo && map.tempo->bpm)
            s.real(5, *map.tempo->bpm);
        else
            s.null(5);
        if (map.key && map.key->key) {
            s.text(6, map.key->key->label);
            s.text(7, map.key->key->camelot);
            s.text(8, map.key->key->open_key);
        } else {
            s.null(6);
            s.null(7);
            s.null(8);
        }
        if (map.loudness && !map.loudness->silent)
            s.real(9, map.loudness->integrated_lufs);
        else
            s.null(9);
        if (auto e = energy_level(map))
            s.i64(10, *e);
        else
            s.null(10);
        s.i64(11, map.audio.truncated ? 1 : 0);
        s.text(12, analyzers);
        s.text(13, now);
        s.text(14, json);
        if (map.audio.tags.artist.empty())
            s.null(15);
        else
            s.text(15, map.audio.tags.artist);
        ok = s.step() == SQLITE_DONE;
    }
    ok = ok && store_location(impl_->db, abs, map.audio.content_hash, now);
    if (!ok) {
        Error e = impl_->err("write");
        (void)impl_->exec("ROLLBACK;");
        return e;
    }
    return impl_->exec("COMMIT;");
}

Result<void> Library::remember_location(const std::string& file_path, const std::string& content_hash) {
    const std::string abs = fs::absolute(file_path).lexically_normal().string();
    std::lock_guard lock(impl_->mu);
    if (auto r = impl_->exec("BEGIN IMMEDIATE;"); !r) return r.error();
    if (!store_location(impl_->db, abs, content_hash, now_iso())) {
        Error e = impl_->err("write");
        (void)impl_->exec("ROLLBACK;");
        return e;
    }
    return impl_->exec("COMMIT;");
}

Result<std::vector<TrackRow>> Library::list(const Query& q) {
    std::string sql =
        "SELECT f.path, a.content_hash, a.config_key, a.title, a.duration_s, a.bpm, a.key_label, a.camelot, "
        "a.open_key, a.integrated_lufs, a.energy, a.analyzed_at, a.artist, " +
        std::string(q.with_json ? "a.song_map" : "''") +
        " FROM files f JOIN analyses a ON a.id = (SELECT id FROM analyses x WHERE x.content_hash = f.content_hash "
        "ORDER BY x.analyzed_at DESC, x.id DESC LIMIT 1) WHERE 1=1";
    std::vector<std::string> camelots;
    for (const auto& k : q.camelot) {
        const std::string c = normalise_camelot(k);
        if (c.empty()) return make_error(ErrorCode::kInvalidArgument, "not a key: '" + k + "'");
        camelots.push_back(c);
    }
    if (!camelots.empty()) {
        sql += " AND a.camelot IN (";
        for (size_t i = 0; i < camelots.size(); ++i) sql += i ? ",?" : "?";
        sql += ")";
    }
    if (q.bpm_min) sql += " AND a.bpm >= " + std::to_string(*q.bpm_min);
    if (q.bpm_max) sql += " AND a.bpm <= " + std::to_string(*q.bpm_max);
    if (q.energy_min) sql += " AND a.energy >= " + std::to_string(*q.energy_min);
    if (q.energy_max) sql += " AND a.energy <= " + std::to_string(*q.energy_max);
    if (!q.path_contains.empty()) sql += " AND instr(f.path, ?) > 0";
    // The ORDER BY terms, each given the direction (NULLs last either way).
    std::vector<std::string> order;
    if (q.sort == "path")
        order = {"f.path"};
    else if (q.sort == "bpm")
        order = {"a.bpm"};
    else if (q.sort == "key")
        order = {"CAST(a.camelot AS INTEGER)", "substr(a.camelot, -1)"};
    else if (q.sort == "energy")
        order = {"a.energy"};
    else if (q.sort == "loudness")
        order = {"a.integrated_lufs"};
    else if (q.sort == "duration")
        order = {"a.duration_s"};
    else if (q.sort == "analyzed")
        order = {"a.analyzed_at"};
    else if (q.sort == "title")
        order = {"a.title"};
    else if (q.sort == "artist")
        order = {"a.artist", "a.title"};
    else
        return make_error(
            ErrorCode::kInvalidArgument,
            "unknown sort '" + q.sort + "' (path, title, artist, bpm, key, energy, loudness, duration, analyzed)");
    const char* dir = q.descending ? " DESC" : " ASC";
    std::string terms;
    for (const auto& term : order)
        terms += (terms.empty() ? "" : ", ") + std::string("(") + term + ") IS NULL, " + term + dir;
    sql += " ORDER BY " + terms + ", f.path ASC";

    std::lock_guard lock(impl_->mu);
    Stmt s(impl_->db, sql.c_str());
    if (!s.ok()) return impl_->err("query");
    int bind = 1;
    for (const auto& c : camelots) s.text(bind++, c);
    if (!q.path_contains.empty()) s.text(bind++, q.path_contains);
    std::vector<TrackRow> rows;
    std::map<std::string, size_t> first_of;  // content hash -> row
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        TrackRow r;
        r.path = s.col_text(0);
        r.content_hash = s.col_text(1);
        r.config_key = s.col_text(2);
        r.title = s.col_text(3);
        r.duration_s = sqlite3_column_double(s.get(), 4);
        if (!s.col_null(5)) r.bpm = sqlite3_column_double(s.get(), 5);
        r.key_label = s.col_text(6);
        r.camelot = s.col_text(7);
        r.open_key = s.col_text(8);
        if (!s.col_null(9)) r.integrated_lufs = sqlite3_column_double(s.get(), 9);
        if (!s.col_null(10)) r.energy = sqlite3_column_int(s.get(), 10);
        r.analyzed_at = s.col_text(11);
        r.artist = s.col_text(12);
        r.song_map_json = s.col_text(13);
        std::error_code ec;
        r.missing = !fs::exists(r.path, ec);
        if (r.missing && !q.include_missing) continue;  // deleted or moved away (`library prune` forgets it)
        if (!q.all_copies) {
            // One row per content: identical files at several paths are listed once (the first in
            // the chosen order), with the number of copies.
            auto [it, fresh] = first_of.emplace(r.content_hash, rows.size());
            if (!fresh) {
                ++rows[it->second].copies;
                continue;
            }
        }
        rows.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return impl_->err("query");
    if (q.limit > 0 && rows.size() > static_cast<size_t>(q.limit)) rows.resize(static_cast<size_t>(q.limit));
    return rows;
}

Result<Stats> Library::stats() {
    std::lock_guard lock(impl_->mu);
    Stats st;
    auto count = [&](const char* sql) -> std::int64_t {
        Stmt s(impl_->db, sql);
        return s.step() == SQLITE_ROW ? sqlite3_column_int64(s.get(), 0) : -1;
    };
    st.files = count("SELECT count(*) FROM files");
    st.analyses = count("SELECT count(*) FROM analyses");
    st.with_bpm = count("SELECT count(DISTINCT content_hash) FROM analyses WHERE bpm IS NOT NULL");
    st.with_key = count("SELECT count(DISTINCT content_hash) FROM analyses WHERE camelot IS NOT NULL");
    if (st.files < 0 || st.analyses < 0) return impl_->err("query");
    std::error_code ec;
    st.bytes = static_cast<std::int64_t>(fs::file_size(impl_->path, ec));
    if (ec) st.bytes = 0;
    const auto wal = fs::file_size(impl_->path + "-wal", ec);
    if (!ec) st.bytes += static_cast<std::int64_t>(wal);
    return st;
}

Result<PruneReport> Library::prune(bool dry_run) {
    std::lock_guard lock(impl_->mu);
    PruneReport rep;
    // One transaction; a dry run rolls it back after counting.
    if (auto r = impl_->exec("BEGIN IMMEDIATE;"); !r) return r.error();
    bool ok = true;
    {
        Stmt s(impl_->db, "SELECT path FROM files ORDER BY path");
        while (s.step() == SQLITE_ROW) {
            std::string p = s.col_text(0);
            std::error_code ec;
            if (!fs::exists(p, ec)) rep.missing_paths.push_back(std::move(p));
        }
    }
    for (const auto& p : rep.missing_paths) {
        Stmt s(impl_->db, "DELETE FROM files WHERE path=?1");
        s.text(1, p);
        ok = ok && s.step() == SQLITE_DONE;
    }
    if (ok) {
        Stmt s(impl_->db, "DELETE FROM analyses WHERE content_hash NOT IN (SELECT content_hash FROM files)");
        ok = s.step() == SQLITE_DONE;
        rep.orphan_analyses = sqlite3_changes(impl_->db);
    }
    if (!ok || dry_run) {
        Error e = impl_->err("prune");
        (void)impl_->exec("ROLLBACK;");
        if (!ok) return e;
        return rep;
    }
    if (auto r = impl_->exec("COMMIT;"); !r) return r.error();
    return rep;
}

Result<std::vector<std::vector<std::string>>> Library::duplicates() {
    std::lock_guard lock(impl_->mu);
    Stmt s(impl_->db,
           "SELECT content_hash, path FROM files WHERE content_hash IN (SELECT content_hash FROM files GROUP BY "
           "content_hash HAVING count(*) > 1) ORDER BY content_hash, path");
    if (!s.ok()) return impl_->err("query");
    std::vector<std::vector<std::string>> groups;
    std::string current;
    std::vector<std::string> group;
    auto flush = [&] {
        if (group.size() > 1) groups.push_back(std::move(group));
        group.clear();
    };
    while (s.step() == SQLITE_ROW) {
        std::string h = s.col_text(0), p = s.col_text(1);
        if (h != current) {
            flush();
            current = h;
        }
        std::error_code ec;
        if (fs::exists(p, ec)) group.push_back(std::move(p));
    }
    flush();
    return groups;
}

}  // namespace harmony::library
