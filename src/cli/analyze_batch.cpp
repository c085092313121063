// `harmony analyze` batch mode (analyze_batch.hpp): progress, summary, library, tags, exports.
#include "cli/analyze_batch.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <thread>

#include "cli/common.hpp"
#include "core/hash.hpp"
#include "harmony/engine.hpp"
#include "harmony/export.hpp"
#include "library/batch.hpp"
#include "tags/tag_writer.hpp"

namespace harmony::cli {

namespace fs = std::filesystem;

void add_batch_options(CLI::App* sub, BatchCliOptions& o) {
    sub->add_flag("--recursive,-r", o.recursive, "Walk directories recursively (batch mode)");
    sub->add_option("--jobs,-j", o.jobs, "Files analysed in parallel (batch mode; default: CPU cores)")
        ->check(CLI::Range(1, 256));
    sub->add_option("--library", o.library,
                    "Library database (default: $HARMONY_LIBRARY or ~/.local/share/harmony/library.sqlite)");
    sub->add_flag("--no-cache", o.no_cache, "Re-analyse files the library already holds (results are stored)");
    sub->add_flag("--no-library", o.no_library, "Batch mode without the library (no cache, nothing stored)");
    sub->add_flag("--write-tags", o.write_tags, "Write BPM and key into the files' tags (TagLib)");
    sub->add_flag("--dry-run", o.dry_run, "With --write-tags: show the tag changes, write nothing");
    sub->add_option_function<std::string>(
           "--key-notation",
           [&o](const std::string& v) {
               o.key_notation = v;
               o.key_notation_given = true;
           },
           "Key notation for tags and exports (rekordbox Tonality and Traktor KEY too when given): standard, camelot, "
           "openkey")
        ->default_str(o.key_notation);
    sub->add_option("--comment-prefix", o.comment_prefix,
                    "With --write-tags: prefix the comment with this template ({key} {camelot} {openkey} {bpm} "
                    "{energy}), e.g. \"{camelot} - {bpm}\"");
    sub->add_option("--export", o.export_format,
                    "Export the batch's results: json, csv, jams, beats, lab, sections-lab, chordpro, rekordbox, "
                    "traktor, m3u, midi, mixxx, enginedj (-o names the Engine Library folder) "
                    "(to -o FILE or stdout)");
    sub->add_option(
           "--cues", o.cues,
           "DJ cue points (rekordbox, Traktor, Mixxx, Engine DJ exports; Serato tags with --write-tags --serato): "
           "sections (section starts), phrases (the analyzer's 4/8-bar phrases), phrases8 | phrases16 | phrases32 "
           "(the DJ phrase grid: 8/16/32 bars counted from each section start), none; hot-cue pads (8) go to "
           "the section starts first")
        ->capture_default_str();
    sub->add_option("--bpm-tolerance", o.bpm_tolerance_pct, "M3U export: max BPM step between neighbours, percent")
        ->capture_default_str();
    sub->add_flag("--keep-existing-tags", o.keep_existing,
                  "With --write-tags: leave a BPM or key already in a file (hand-set or another tool's) as it is");
    sub->add_flag("--skip-tagged", o.skip_tagged, "With --write-tags: leave files that already have a BPM and a key");
    sub->add_flag("--serato", o.serato,
                  "With --write-tags: also Serato DJ's beat grid, cues and autotags (GEOB / SERATO_* / com.serato.dj); "
                  "a BPM lock or cues set in Serato are kept");
    sub->add_option("--tag-bpm", o.tag_bpm,
                    "With --write-tags: BPM tag as 'decimal' (130.03, what DJ software writes) or 'integer' (130, the "
                    "ID3v2 spec)")
        ->check(CLI::IsMember({"decimal", "integer"}))
        ->capture_default_str();
    add_dj_export_options(sub, o.dj);
}

void add_dj_export_options(CLI::App* sub, DjExportCliOptions& o) {
    sub->add_option("--path-map", o.path_map,
                    "Rewrite exported paths for another machine, FROM=TO (e.g. /home/me/Music=/Volumes/USB/Music); "
                    "repeatable, the first matching prefix wins");
    sub->add_flag("--force-4-4", o.force_four_four, "DJ exports: always 4/4 (CDJs count bars of 4)");
    sub->add_option("--min-meter-confidence", o.min_meter_confidence,
                    "DJ exports: a meter other than 4/4 only at this confidence, else 4/4")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    sub->add_option("--downbeats", o.downbeats,
                    "DJ exports and Serato tags: beat 1 of the bars at the analysed downbeats ('trust'), on the "
                    "first beat ('beat1': set the bar yourself), or 'auto': downbeats only when their confidence "
                    "reaches --min-downbeat-confidence")
        ->check(CLI::IsMember({"auto", "trust", "beat1"}))
        ->capture_default_str();
    sub->add_option("--min-downbeat-confidence", o.min_downbeat_confidence,
                    "With --downbeats auto: the calibrated downbeat confidence (probability that the bar phase is "
                    "right) from which the downbeats are exported")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    sub->add_flag("--include-unplayable", o.include_unplayable,
                  "DJ exports: keep files the target cannot play (Opus, ... in rekordbox), with a warning");
}

bool apply_dj_export_options(const DjExportCliOptions& o, ExportOptions& eo) {
    for (const auto& m : o.path_map) {
        auto pm = parse_path_map(m);
        if (!pm) {
            print_error(pm.error());
            return false;
        }
        eo.path_map.push_back(*pm);
    }
    eo.force_four_four = o.force_four_four;
    eo.min_meter_confidence = o.min_meter_confidence;
    auto policy = parse_downbeat_policy(o.downbeats);
    if (!policy) {
        print_error(policy.error());
        return false;
    }
    eo.downbeats = *policy;
    eo.min_downbeat_confidence = o.min_downbeat_confidence;
    return true;
}

void filter_playable(std::vector<SongMap>& maps, ExportFormat format, const DjExportCliOptions& o) {
    std::vector<SongMap> kept;
    for (auto& m : maps) {
        std::string why;
        if (target_can_play(format, m, &why)) {
            kept.push_back(std::move(m));
            continue;
        }
        std::fprintf(stderr, "harmony: warning: %s: %s%s\n", m.audio.path.c_str(), why.c_str(),
                     o.include_unplayable ? " (exported anyway: --include-unplayable)" : "; left out of the export");
        if (o.include_unplayable) kept.push_back(std::move(m));
    }
    maps = std::move(kept);
}

bool export_has_inputs(ExportFormat format, const AnalysisRequest& request) {
    std::string part;
    if (format == ExportFormat::kMirexChords) part = "chords";
    if (format == ExportFormat::kMirexBeats) part = "beats";
    if (format == ExportFormat::kMidi) part = "notes";
    if (part.empty()) return true;
    auto ids = Engine::resolve(request);
    if (!ids) return true;  // reported elsewhere
    for (const auto& info : Engine::analyzers())
        if (std::find(ids->begin(), ids->end(), info.id) != ids->end() &&
            std::find(info.produces.begin(), info.produces.end(), part) != info.produces.end())
            return true;
    print_error(make_error(ErrorCode::kInvalidArgument,
                           "--export " + std::string(export_format_name(format)) + " needs the '" + part +
                               "' part, which no analyzer of this run produces (" +
                               (request.only.empty() ? std::string("this build has no ") + part + " analyzer"
                                                     : std::string("--only left it out")) +
                               ")"));
    return false;
}

bool wants_batch(const std::vector<std::string>& inputs, const BatchCliOptions& o) {
    // --no-library alone does not: a plain run of files records them in the default library too.
    if (o.recursive || o.jobs > 0 || !o.library.empty() || o.no_cache || o.write_tags || o.dry_run ||
        !o.export_format.empty() || !o.comment_prefix.empty())
        return true;
    for (const auto& in : inputs) {
        std::error_code ec;
        if (fs::is_directory(in, ec)) return true;
    }
    return false;
}

namespace {

using Clock = std::chrono::steady_clock;

std::string duration_text(double s) {
    if (!std::isfinite(s) || s < 0) return "--";
    const long t = std::lround(s);
    char buf[32];
    if (t >= 3600)
        std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else
        std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
    return buf;
}

const char* status_word(library::FileStatus s) {
    switch (s) {
        case library::FileStatus::kAnalyzed:
            return "analysed";
        case library::FileStatus::kCached:
            return "cached";
        case library::FileStatus::kFailed:
            return "failed";
        case library::FileStatus::kCancelled:
            return "cancelled";
    }
    return "?";
}

// Terminal progress bar (redrawn, throttled) or plain lines when stderr is not a terminal.
class ProgressView {
public:
    ProgressView(bool tty, bool quiet) : tty_(tty), quiet_(quiet) {}

    void clear() {
        if (tty_ && drawn_) {
            std::fputs("\r\033[K", stderr);
            drawn_ = false;
        }
    }

    void update(const library::BatchEvent& ev, bool force) {
        if (quiet_) return;
        const double rate = ev.elapsed_s > 0 ? static_cast<double>(ev.done) / ev.elapsed_s : 0.0;
        const double eta = rate > 0 ? static_cast<double>(ev.total - ev.done) / rate : -1.0;
        if (!tty_) {
            if (ev.kind != library::BatchEvent::kFinished || ev.outcome == nullptr) return;
            std::fprintf(stderr, "harmony: [%zu/%zu] %s %s (%.2f s) | %.2f files/s, ETA %s\n", ev.done, ev.total,
                         status_word(ev.outcome->status), ev.outcome->path.c_str(), ev.outcome->elapsed_s, rate,
                         duration_text(eta).c_str());
            return;
        }
        const auto now = Clock::now();
        if (!force && drawn_ && now - last_ < std::chrono::milliseconds(100)) return;
        last_ = now;
        constexpr int kWidth = 24;
        const int fill = ev.total ? static_cast<int>(kWidth * ev.done / ev.total) : kWidth;
        std::string bar(static_cast<size_t>(fill), '#');
        bar.resize(kWidth, '.');
        std::string name = ev.kind == library::BatchEvent::kStarted
                               ? fs::path(ev.path).filename().string()
                               : (ev.outcome ? fs::path(ev.outcome->path).filename().string() : "");
        if (name.size() > 32) name = name.substr(0, 29) + "...";
        std::fprintf(stderr, "\r\033[K[%s] %zu/%zu  %.1f files/s  ETA %s  (%zu new, %zu cached, %zu failed)  %s",
                     bar.c_str(), ev.done, ev.total, rate, duration_text(eta).c_str(), ev.analyzed, ev.cached,
                     ev.failed, name.c_str());
        std::fflush(stderr);
        drawn_ = true;
    }

private:
    bool tty_;
    bool quiet_;
    bool drawn_ = false;
    Clock::time_point last_{};
};

std::string json_name(const std::string& path, std::map<std::string, int>& used) {
    std::string stem = fs::path(path).stem().string();
    const int n = used[stem]++;
    return n == 0 ? stem + ".json" : stem + "-" + std::to_string(n + 1) + ".json";
}

}  // namespace

static bool per_track_format(ExportFormat f) {
    return f == ExportFormat::kJams || f == ExportFormat::kMirexBeats || f == ExportFormat::kMirexChords ||
           f == ExportFormat::kMirexSections || f == ExportFormat::kChordPro || f == ExportFormat::kMidi;
}

int write_export(const std::vector<SongMap>& maps, ExportFormat format, const ExportOptions& options,
                 const std::string& output) {
    if (format == ExportFormat::kEngineDj) {
        // An Engine Library folder: -o names it; the database goes to Database2/m.db, and the
        // track paths are written relative to the folder (as Engine does).
        if (output.empty()) {
            print_error(make_error(ErrorCode::kInvalidArgument,
                                   "enginedj writes an Engine Library folder: give -o DIRECTORY (e.g. "
                                   "/Volumes/USB/Engine\\ Library)"));
            return kExitUsage;
        }
        const fs::path db = fs::path(output) / "Database2" / "m.db";
        if (fs::exists(db)) {
            print_error(make_error(ErrorCode::kInvalidArgument,
                                   db.string() +
                                       " exists: Harmony writes a new Engine library and never replaces one (it "
                                       "may hold your own cues and playlists); give an empty folder"));
            return kExitUsage;
        }
        ExportOptions eo = options;
        eo.engine_library_dir = fs::absolute(output).lexically_normal().string();
        while (eo.engine_library_dir.size() > 1 && eo.engine_library_dir.back() == '/')
            eo.engine_library_dir.pop_back();
        auto bytes = export_song_maps(maps, format, eo);
        if (!bytes) {
            print_error(bytes.error());
            return bytes.error().code == ErrorCode::kInvalidArgument ? kExitUsage : exit_code_for(bytes.error().code);
        }
        std::error_code ec;
        fs::create_directories(db.parent_path(), ec);
        if (auto w = write_text_file(db.string(), *bytes); !w) {
            print_error(w.error());
            return kExitOutputError;
        }
        return kExitOk;
    }
    if (per_track_format(format) && maps.size() > 1) {
        // One file per track (JAMS, .beats, .lab): -o names a directory.
        if (output.empty()) {
            print_error(make_error(ErrorCode::kInvalidArgument, std::string(export_format_name(format)) +
                                                                    " writes one file per track: give -o DIRECTORY"));
            return kExitUsage;
        }
        std::error_code ec;
        fs::create_directories(output, ec);
        if (!fs::is_directory(output)) {
            print_error(make_error(ErrorCode::kIoError, "cannot create the directory " + output));
            return kExitOutputError;
        }
        int worst = kExitOk;
        std::map<std::string, int> used;
        for (const auto& m : maps) {
            std::string name = json_name(m.audio.path, used);  // "<stem>[-n].json"
            name = name.substr(0, name.size() - 5) + std::string(export_file_extension(format));
            auto text = export_song_maps({m}, format, options);
            if (!text) {
                print_error(make_error(text.error().code, m.audio.path + ": " + text.error().message));
                if (severity(kExitInputError) > severity(worst)) worst = kExitInputError;
                continue;
            }
            if (auto w = write_text_file((fs::path(output) / name).string(), *text); !w) {
                print_error(w.error());
                worst = kExitOutputError;
            }
        }
        return worst;
    }
    auto text = export_song_maps(maps, format, options);
    if (!text) {
        print_error(text.error());
        return text.error().code == ErrorCode::kInvalidArgument ? kExitUsage : exit_code_for(text.error().code);
    }
    if (output.empty()) {
        std::cout << *text << std::flush;
    } else if (auto w = write_text_file(output, *text); !w) {
        print_error(w.error());
        return kExitOutputError;
    }
    return kExitOk;
}

int run_analyze_batch(const std::vector<std::string>& inputs, const AnalysisRequest& request,
                      const EngineOptions& engine_options, const std::string& output, bool quiet,
                      const BatchCliOptions& o, const std::string& stems_dir) {
    auto notation = parse_key_notation(o.key_notation);
    if (!notation) {
        print_error(notation.error());
        return kExitUsage;
    }
    auto cues = parse_cue_source(o.cues);
    if (!cues) {
        print_error(cues.error());
        return kExitUsage;
    }
    std::optional<ExportFormat> format;
    if (!o.export_format.empty()) {
        auto f = parse_export_format(o.export_format);
        if (!f) {
            print_error(f.error());
            return kExitUsage;
        }
        format = *f;
        if (!export_has_inputs(*format, request)) return kExitUsage;
    }
    ExportOptions eo;
    if (!apply_dj_export_options(o.dj, eo)) return kExitUsage;
    if ((o.serato || o.keep_existing || o.skip_tagged) && !o.write_tags) {
        print_error(make_error(ErrorCode::kInvalidArgument,
                               "--serato, --keep-existing-tags and --skip-tagged apply to --write-tags"));
        return kExitUsage;
    }
    if (o.dry_run && !o.write_tags) {
        print_error(make_error(ErrorCode::kInvalidArgument, "--dry-run applies to --write-tags"));
        return kExitUsage;
    }
    if (!format && !output.empty()) {
        std::error_code ec;
        fs::create_directories(output, ec);
        if (!fs::is_directory(output)) {
            print_error(make_error(ErrorCode::kInvalidArgument, "in batch mode, -o must be a directory: " + output));
            return kExitUsage;
        }
    }

    const auto files = library::collect_inputs(inputs, o.recursive);
    if (files.empty()) {
        std::string where;
        for (const auto& in : inputs) where += (where.empty() ? "" : ", ") + in;
        print_error(make_error(ErrorCode::kNotAFile, std::string("no audio files in the directory") +
                                                         (o.recursive ? " tree" : "") + ": " + where +
                                                         (o.recursive ? "" : " (use --recursive for subdirectories)")));
        return kExitInputError;
    }

    std::unique_ptr<library::Library> lib;
    if (!o.no_library) {
        auto l = library::Library::open(o.library.empty() ? library::default_library_path() : o.library);
        if (!l) {
            print_error(l.error());
            return kExitOutputError;
        }
        lib = std::move(l.value());
    }

    const bool tty = isatty(STDERR_FILENO) != 0;
    ProgressView view(tty, quiet);
    int worst = kExitOk;
    auto note = [&](int code) {
        if (severity(code) > severity(worst)) worst = code;
    };
    std::map<std::string, size_t> index_of;
    for (size_t i = 0; i < files.size(); ++i) index_of.emplace(files[i], i);
    std::vector<std::optional<SongMap>> kept(format ? files.size() : 0);
    std::map<std::string, int> names_used;
    std::string cfg;
    if (lib)
        if (auto k = library::config_key(request, engine_options)) cfg = *k;
    tags::TagOptions topt;
    topt.notation = *notation;
    topt.comment_template = o.comment_prefix;
    topt.dry_run = o.dry_run;
    topt.keep_existing = o.keep_existing;
    topt.skip_tagged = o.skip_tagged;
    topt.integer_bpm = o.tag_bpm == "integer";
    topt.serato = o.serato;
    topt.cues = *cues;
    topt.downbeats = eo.downbeats;
    topt.min_downbeat_confidence = eo.min_downbeat_confidence;
    std::vector<std::pair<std::string, std::string>> tag_failures;
    const bool table = isatty(STDOUT_FILENO) != 0 && !format && !o.dry_run;
    std::vector<std::pair<std::string, std::string>> table_rows;  // file, summary line

    library::BatchOptions bo;
    bo.jobs = o.jobs > 0 ? o.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    bo.request = request;
    bo.engine = engine_options;
    bo.library = lib.get();
    bo.use_cache = !o.no_cache;
    bo.stop = global_stop_token();
    bo.stems_dir = stems_dir;
    bo.on_event = [&](const library::BatchEvent& ev) {
        if (ev.kind == library::BatchEvent::kStarted || ev.outcome == nullptr) {
            view.update(ev, false);
            return;
        }
        const library::FileOutcome& out = *ev.outcome;
        if (out.status == library::FileStatus::kFailed && out.error) {
            view.clear();
            print_error(*out.error);
            note(exit_code_for(out.error->code));
        } else if (out.status == library::FileStatus::kCancelled) {
            note(kExitInterrupted);
        } else if (out.map) {
            const SongMap& map = *out.map;
            if (!quiet && out.status == library::FileStatus::kAnalyzed)
                for (const auto& w : map.audio.warnings) {
                    view.clear();
                    std::fprintf(stderr, "harmony: warning: %s: %s\n", out.path.c_str(), w.c_str());
                }
            note(map.audio.truncated ? kExitPartial : kExitOk);
            if (!format && !output.empty()) {
                auto text = to_json(map, 2);
                const std::string dest = (fs::path(output) / json_name(out.path, names_used)).string();
                if (!text) {
                    view.clear();
                    print_error(text.error());
                    note(exit_code_for(text.error().code));
                } else if (auto w = write_text_file(dest, *text + "\n"); !w) {
                    view.clear();
                    print_error(w.error());
                    note(kExitOutputError);
                }
            }
            if (o.write_tags) {
                auto rep = tags::write_tags(out.path, map, topt);
                view.clear();
                if (!rep) {
                    print_error(rep.error());
                    note(exit_code_for(rep.error().code));
                    tag_failures.emplace_back(out.path, rep.error().message);
                } else {
                    std::string line;
                    for (const auto& c : rep->changes)
                        line +=
                            (line.empty() ? "" : ", ") + c.field + " '" + c.old_value + "' -> '" + c.new_value + "'";
                    for (const auto& k : rep->kept) line += (line.empty() ? "kept " : ", kept ") + k;
                    if (o.dry_run)
                        std::printf("%s: %s%s\n", out.path.c_str(), line.empty() ? "tags up to date" : line.c_str(),
                                    " (dry run)");
                    else if (!quiet)
                        std::fprintf(stderr, "harmony: tags: %s: %s\n", out.path.c_str(),
                                     line.empty() ? "up to date" : line.c_str());
                    if (rep->written && lib && !cfg.empty()) {
                        // The file's bytes changed, not its audio (the content hash leaves tags out):
                        // note the new size and time so the next run does not hash it again.
                        if (auto h = core::hash_audio_file(out.path); h && *h == map.audio.content_hash) {
                            (void)lib->remember_location(out.path, *h);
                        } else if (h) {
                            SongMap m2 = map;
                            m2.audio.content_hash = *h;
                            std::error_code ec;
                            m2.audio.file_size_bytes = static_cast<std::int64_t>(fs::file_size(out.path, ec));
                            if (auto t = to_json(m2, -1)) (void)lib->record(out.path, m2, *t, cfg);
                        }
                    }
                }
            }
            if (format) {
                auto it = index_of.find(out.path);
                if (it != index_of.end()) kept[it->second] = map;
            }
            if (table) table_rows.emplace_back(out.path, summary_text(map));
        }
        view.update(ev, true);
    };

    const auto summary = library::run_batch(files, bo);
    view.clear();
    if (summary.interrupted) note(kExitInterrupted);

    if (format && !summary.interrupted) {
        std::vector<SongMap> maps;
        for (auto& m : kept)
            if (m) maps.push_back(std::move(*m));
        eo.key_notation = *notation;
        eo.cues = *cues;
        if (o.key_notation_given) eo.dj_key_notation = *notation;
        eo.playlist_bpm_tolerance_pct = o.bpm_tolerance_pct;
        filter_playable(maps, *format, o.dj);
        if (maps.empty())
            print_error(make_error(ErrorCode::kInvalidArgument, "nothing to export: no file was analysed"));
        else
            note(write_export(maps, *format, eo, output));
    }

    if (table && !table_rows.empty()) {
        // A terminal gets one line per file: "120.00 BPM · A minor (8A) · 4/4 · −8.1 LUFS  file".
        std::sort(table_rows.begin(), table_rows.end());
        for (const auto& [file, line] : table_rows) std::printf("%-48s  %s\n", line.c_str(), file.c_str());
        std::fflush(stdout);
    }
    const double hours = summary.elapsed_s / 3600.0;
    const std::string tag_note =
        o.write_tags && !o.dry_run ? ", " + std::to_string(tag_failures.size()) + " tag write(s) failed" : "";
    std::fprintf(stderr,
                 "harmony: %zu files in %s: %zu analysed, %zu cached, %zu failed%s%s%s | %.0f tracks/hour%s%s\n",
                 summary.total, duration_text(summary.elapsed_s).c_str(), summary.analyzed, summary.cached,
                 summary.failed, tag_note.c_str(), summary.cancelled ? ", " : "",
                 summary.cancelled ? (std::to_string(summary.cancelled) + " not done (interrupted)").c_str() : "",
                 hours > 0 ? static_cast<double>(summary.analyzed) / hours : 0.0, lib ? " | library " : "",
                 lib ? lib->path().c_str() : "");
    if (!summary.failures.empty()) {
        std::fprintf(stderr, "harmony: %zu failed:\n", summary.failures.size());
        for (const auto& f : summary.failures)
            std::fprintf(stderr, "  %s: %s [%s]\n", f.path.c_str(), f.error ? f.error->message.c_str() : "?",
                         f.error ? std::string(error_code_name(f.error->code)).c_str() : "internal");
    }
    if (!tag_failures.empty()) {
        std::fprintf(stderr, "harmony: %zu tag write(s) failed (analysis kept):\n", tag_failures.size());
        for (const auto& [file, why] : tag_failures) std::fprintf(stderr, "  %s: %s\n", file.c_str(), why.c_str());
    }
    return worst;
}

}  // namespace harmony::cli
