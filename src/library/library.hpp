// Harmony — the local track library: a SQLite database (WAL mode) that caches Song Maps by
// content hash + analysis configuration, remembers where each file lives, and answers DJ queries
// (key, BPM range, energy). Safe against Ctrl-C and kill -9: every finished track is one
// transaction. Safe to share between threads (one connection behind a mutex) and processes
// (busy timeout).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harmony/engine.hpp"
#include "harmony/error.hpp"
#include "harmony/song_map.hpp"

namespace harmony::library {

/// $HARMONY_LIBRARY, else $XDG_DATA_HOME/harmony/library.sqlite, else
/// ~/.local/share/harmony/library.sqlite.
std::string default_library_path();

/// The cache key of an analysis configuration (Engine::cache_key): schema version, the resolved
/// analyzers with their versions, effective parameters and model hashes, the analysis rate and
/// the segment settings. Two requests that give the same Song Map content have the same key.
Result<std::string> config_key(const AnalysisRequest& request, const EngineOptions& options = {});

/// One track as the library lists it (a file path and its latest analysis).
struct TrackRow {
    std::string path;
    std::string content_hash;
    std::string config_key;
    std::string title;   // the file's title tag, else its file name without extension
    std::string artist;  // the file's artist tag, "" when none
    double duration_s = 0.0;
    std::optional<double> bpm;
    std::string key_label;  // "A minor", empty when no key
    std::string camelot;    // "8A"
    std::string open_key;   // "1m"
    std::optional<double> integrated_lufs;
    std::optional<int> energy;
    std::string analyzed_at;  // ISO 8601 UTC
    std::string song_map_json;
    int copies = 1;        // paths holding this same audio (Query::all_copies = false)
    bool missing = false;  // the file is gone (only with Query::include_missing)
};

struct Query {
    std::vector<std::string> camelot;  // any of these (also accepts standard/Open Key, normalised)
    std::optional<double> bpm_min, bpm_max;
    std::optional<int> energy_min, energy_max;
    std::string path_contains;
    std::string sort = "path";  // path, bpm, key, energy, loudness, duration, analyzed
    bool descending = false;
    int limit = 0;  // 0 = all
    bool with_json = false;
    bool include_missing = false;  // also paths whose file no longer exists
    bool all_copies = false;       // every path of identical audio (default: one row per content)
};

struct PruneReport {
    std::vector<std::string> missing_paths;  // forgotten (or, with dry_run, to be forgotten)
    std::int64_t orphan_analyses = 0;        // Song Maps no known path holds any more
};

struct Stats {
    std::int64_t files = 0;     // known paths
    std::int64_t analyses = 0;  // stored Song Maps
    std::int64_t with_bpm = 0;
    std::int64_t with_key = 0;
    std::int64_t bytes = 0;  // database size on disk
};

class Library {
public:
    /// Opens (creating directories and tables when needed) the library at `path`.
    static Result<std::unique_ptr<Library>> open(const std::string& path);
    ~Library();
    Library(const Library&) = delete;
    Library& operator=(const Library&) = delete;

    const std::string& path() const;

    /// The content hash of a file, from the files table when its size and mtime are unchanged,
    /// else computed (and not stored: record() stores it with the analysis).
    Result<std::string> content_hash_of(const std::string& file_path);

    /// The stored Song Map JSON for this content and configuration, if any.
    Result<std::optional<std::string>> find(const std::string& content_hash, const std::string& config_key);

    /// Stores one finished analysis and the file's location in one transaction. Paths that held
    /// the same content and no longer exist (a renamed or moved file) are forgotten.
    Result<void> record(const std::string& file_path, const SongMap& map, const std::string& song_map_json,
                        const std::string& config_key);

    /// Notes that `file_path` holds this content (a cache hit at a new path), in one transaction.
    Result<void> remember_location(const std::string& file_path, const std::string& content_hash);

    Result<std::vector<TrackRow>> list(const Query& query);

    /// Forgets paths whose file no longer exists and the analyses no remaining path holds.
    Result<PruneReport> prune(bool dry_run);

    /// Groups of existing paths that hold the same audio (content hash), two or more per group.
    Result<std::vector<std::vector<std::string>>> duplicates();
    Result<Stats> stats();

private:
    struct Impl;
    explicit Library(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

/// "8A", "8a", "Am", "A minor", "1m" -> "8A"; "" when not a key.
std::string normalise_camelot(const std::string& text);

}  // namespace harmony::library
