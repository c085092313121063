// `harmony analyze` in batch mode: directories, --recursive, --jobs, the library cache,
// --write-tags, --export. Plain `harmony analyze FILE...` without these keeps the simple path.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "harmony/engine.hpp"
#include "harmony/export.hpp"

namespace harmony::cli {

struct BatchCliOptions {
    bool recursive = false;
    int jobs = 0;  // 0: not given
    std::string library;
    bool no_cache = false;
    bool no_library = false;
    bool write_tags = false;
    bool dry_run = false;
    std::string key_notation = "standard";
    std::string comment_prefix;  // template; empty = no comment
    std::string export_format;
    double bpm_tolerance_pct = 6.0;
    std::string cues = "sections";
};

void add_batch_options(CLI::App* sub, BatchCliOptions& o);

/// True when the inputs or options ask for batch mode.
bool wants_batch(const std::vector<std::string>& inputs, const BatchCliOptions& o);

/// Renders and writes an export (stdout when `output` is empty). JAMS, .beats and .lab hold one
/// track each: several maps go to one file per track in the directory `output`. Returns an exit code.
int write_export(const std::vector<SongMap>& maps, ExportFormat format, const ExportOptions& options,
                 const std::string& output);

int run_analyze_batch(const std::vector<std::string>& inputs, const AnalysisRequest& request,
                      const EngineOptions& engine_options, const std::string& output, bool quiet,
                      const BatchCliOptions& o);

}  // namespace harmony::cli
