// `harmony analyze` in batch mode: directories, --recursive, --jobs, the library cache,
// --write-tags, --export. Plain `harmony analyze FILE...` without these keeps the simple path.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "harmony/engine.hpp"
#include "harmony/export.hpp"

namespace harmony::cli {

/// Options of the DJ exports shared by `analyze --export` and `library export`.
struct DjExportCliOptions {
    std::vector<std::string> path_map;  // FROM=TO
    bool force_four_four = false;
    double min_meter_confidence = 0.8;
    std::string downbeats = "auto";
    double min_downbeat_confidence = 0.5;
    bool include_unplayable = false;
};

void add_dj_export_options(CLI::App* sub, DjExportCliOptions& o);

/// Fills the DJ fields of `eo` (path map, meter policy); false (error printed) on a bad value.
bool apply_dj_export_options(const DjExportCliOptions& o, ExportOptions& eo);

/// Drops (with a warning on stderr) the maps whose files the export's DJ software cannot play,
/// unless --include-unplayable.
void filter_playable(std::vector<SongMap>& maps, ExportFormat format, const DjExportCliOptions& o);

/// Whether some analyzer of the request produces the parts an export format needs; prints the
/// error when not ("--export lab" without a chords analyzer).
bool export_has_inputs(ExportFormat format, const AnalysisRequest& request);

struct BatchCliOptions {
    bool recursive = false;
    int jobs = 0;  // 0: not given
    std::string library;
    bool no_cache = false;
    bool no_library = false;
    bool write_tags = false;
    bool dry_run = false;
    std::string key_notation = "standard";
    bool key_notation_given = false;  // --key-notation on the command line (DJ exports then use it too)
    std::string comment_prefix;       // template; empty = no comment
    std::string export_format;
    double bpm_tolerance_pct = 6.0;
    std::string cues = "sections";
    bool keep_existing = false;       // --keep-existing-tags
    bool skip_tagged = false;         // --skip-tagged
    bool serato = false;              // --serato
    std::string tag_bpm = "decimal";  // --tag-bpm decimal|integer
    DjExportCliOptions dj;
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
                      const BatchCliOptions& o, const std::string& stems_dir = {});

}  // namespace harmony::cli
