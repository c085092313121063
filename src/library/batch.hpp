// Harmony — whole-library batch analysis: many files, N worker threads (each with its own
// Engine), results cached in the Library. Never prints: the caller gets events (serialised).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "harmony/engine.hpp"
#include "harmony/error.hpp"
#include "library/library.hpp"

namespace harmony::library {

/// Audio file extensions picked up when walking directories (lower case, with the dot).
bool has_audio_extension(const std::string& path);

/// Expands inputs: files are kept as given (even without an audio extension, so a bad file is
/// reported); directories contribute their audio files (recursively with `recursive`), sorted.
/// Missing inputs are kept too (they fail with kFileNotFound in the batch).
std::vector<std::string> collect_inputs(const std::vector<std::string>& inputs, bool recursive);

enum class FileStatus { kAnalyzed, kCached, kFailed, kCancelled };

struct FileOutcome {
    std::string path;
    FileStatus status = FileStatus::kFailed;
    std::optional<SongMap> map;  // analysed or cached (path set to this file's path)
    std::optional<Error> error;
    double elapsed_s = 0.0;
};

struct BatchEvent {
    enum Kind { kStarted, kFinished } kind = kStarted;
    const FileOutcome* outcome = nullptr;  // kFinished only
    std::string path;                      // kStarted
    std::size_t done = 0;                  // files finished so far (all statuses)
    std::size_t total = 0;
    std::size_t analyzed = 0, cached = 0, failed = 0;
    double elapsed_s = 0.0;
};

struct BatchOptions {
    int jobs = 1;
    AnalysisRequest request;
    /// Options of every file's Engine (segment settings, analysis rate; stop and progress are set
    /// by the runner). threads 0: the cores divided between the jobs.
    EngineOptions engine;
    Library* library = nullptr;  // null: no cache
    bool use_cache = true;       // false: re-analyse even when cached (results still stored)
    std::stop_token stop;
    /// Non-empty: each file's stems are written to stems_dir/<file name>/ (stems_folders) and the
    /// cache is not used (a cached map would write no stems). The request must select "stems".
    std::string stems_dir;
    /// Called from worker threads, serialised by the runner (never concurrently).
    std::function<void(const BatchEvent&)> on_event;
};

struct BatchSummary {
    std::size_t total = 0, analyzed = 0, cached = 0, failed = 0, cancelled = 0;
    double elapsed_s = 0.0;
    std::vector<FileOutcome> failures;  // every failed file with its error
    bool interrupted = false;
};

/// One stems folder per file: DIR/<file name without extension>, with "-2", "-3"... appended to
/// a name an earlier file already took (two "01 Intro.mp3" in different folders).
std::vector<std::string> stems_folders(const std::vector<std::string>& files, const std::string& dir);

/// Runs the batch. A failing file never stops the others; a stop request lets the running
/// analyses end as cancelled (nothing half-written: each store is one transaction) and starts no
/// new file.
BatchSummary run_batch(const std::vector<std::string>& files, const BatchOptions& options);

}  // namespace harmony::library
