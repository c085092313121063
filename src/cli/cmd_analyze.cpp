// `harmony analyze FILE...`
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/analyze_batch.hpp"
#include "cli/common.hpp"
#include "harmony/engine.hpp"
#include "library/batch.hpp"
#include "library/library.hpp"

namespace harmony::cli {

namespace {

namespace fs = std::filesystem;

struct AnalyzeOptions {
    std::vector<std::string> files;
    std::string only;
    std::vector<std::string> params;
    std::string output;
    std::string stems_dir;     // --stems DIR
    std::string stems_format;  // --stems-format wav|flac
    bool compact = false;
    bool json = false;
    bool progress = false;
    bool quiet = false;
    double segment_s = EngineOptions{}.segment_s;
    int threads = 0;
    BatchCliOptions batch;  // directories, --jobs, library, tags, exports (analyze_batch.cpp)
};

int run_analyze(const AnalyzeOptions& o) {
    AnalysisRequest req;
    req.only = split_csv(o.only);
    for (const auto& kv : o.params) {
        const auto eq = kv.find('=');
        if (eq == std::string::npos) {
            print_error(
                make_error(ErrorCode::kInvalidArgument, "--param expects analyzer.name=value, got '" + kv + "'"));
            return kExitUsage;
        }
        req.params[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    auto selected = Engine::resolve(req);
    if (!selected) {
        print_error(selected.error());
        return kExitUsage;
    }
    if (!o.stems_format.empty()) {
        if (o.stems_dir.empty()) {
            print_error(make_error(ErrorCode::kInvalidArgument, "--stems-format needs --stems DIR"));
            return kExitUsage;
        }
        if (req.params.count("stems.format") != 0) {
            print_error(make_error(ErrorCode::kInvalidArgument, "give either --stems-format or -p stems.format"));
            return kExitUsage;
        }
        req.params["stems.format"] = o.stems_format;
    }
    if (!o.stems_dir.empty()) {
        // Separation is off by default (slow, writes files): --stems adds it to the selection.
        if (req.params.count("stems.dir") != 0) {
            print_error(make_error(ErrorCode::kInvalidArgument, "give either --stems DIR or -p stems.dir=DIR"));
            return kExitUsage;
        }
        req.only = *selected;
        if (std::find(req.only.begin(), req.only.end(), "stems") == req.only.end()) req.only.push_back("stems");
        req.params["stems.dir"] = o.stems_dir;
        if (auto r = Engine::resolve(req); !r) {
            print_error(r.error());
            return kExitUsage;
        }
    }
    EngineOptions engine_options;
    engine_options.segment_s = o.segment_s;
    engine_options.threads = o.threads;
    if (wants_batch(o.files, o.batch))
        return run_analyze_batch(o.files, req, engine_options, o.output, o.quiet, o.batch, o.stems_dir);
    const bool many = o.files.size() > 1;
    if (many && !o.output.empty()) {
        std::error_code ec;
        fs::create_directories(o.output, ec);
        if (!fs::is_directory(o.output)) {
            print_error(
                make_error(ErrorCode::kInvalidArgument, "with several inputs, -o must be a directory: " + o.output));
            return kExitUsage;
        }
    }
    const bool tty = isatty(STDERR_FILENO) != 0;
    // On a terminal, a summary line per file; JSON when piped, with -o, or with --json.
    const bool human = o.output.empty() && !o.json && !o.compact && isatty(STDOUT_FILENO) != 0;
    // Single-file runs are stored in the library too, opened on the first result (a failure to
    // open it is only a warning).
    std::unique_ptr<library::Library> lib;
    std::string cfg;
    bool lib_tried = o.batch.no_library;
    auto record = [&](const std::string& path, const SongMap& map) {
        if (!lib_tried) {
            lib_tried = true;
            auto l =
                library::Library::open(o.batch.library.empty() ? library::default_library_path() : o.batch.library);
            if (l) {
                lib = std::move(l.value());
                if (auto k = library::config_key(req, engine_options)) cfg = *k;
            } else if (!o.quiet) {
                std::fprintf(stderr, "harmony: warning: library not updated: %s\n", l.error().message.c_str());
            }
        }
        if (!lib || cfg.empty()) return;
        if (auto t = to_json(map, -1))
            if (auto r = lib->record(path, map, *t, cfg); !r && !o.quiet)
                std::fprintf(stderr, "harmony: warning: library not updated: %s\n", r.error().message.c_str());
    };
    int worst = kExitOk;
    auto note = [&](int code) {
        if (severity(code) > severity(worst)) worst = code;
    };
    // One stems folder per input: DIR/<file name without extension>/ (made unique).
    const auto stem_dirs =
        !o.stems_dir.empty() && many ? library::stems_folders(o.files, o.stems_dir) : std::vector<std::string>{};
    for (std::size_t fi = 0; fi < o.files.size(); ++fi) {
        const std::string& path = o.files[fi];
        if (global_stop_token().stop_requested()) {
            note(kExitInterrupted);
            break;
        }
        EngineOptions eo = engine_options;
        eo.stop = global_stop_token();
        if (o.progress)
            eo.progress = [&](const Progress& p) {
                if (tty)
                    std::fprintf(stderr, "\r%-12s %5.1f%%  %s%s", p.stage.c_str(), 100.0 * p.fraction, path.c_str(),
                                 p.fraction >= 1.0 ? "\n" : "");
                else
                    std::fprintf(stderr, "progress %s %s %.3f\n", path.c_str(), p.stage.c_str(), p.fraction);
            };
        Engine engine(std::move(eo));
        AnalysisRequest file_req = req;
        if (!stem_dirs.empty()) file_req.params["stems.dir"] = stem_dirs[fi];
        auto map = engine.analyze_file(path, file_req);
        if (!map) {
            print_error(map.error());
            note(exit_code_for(map.error().code));
            continue;
        }
        if (!o.quiet)
            for (const auto& w : map->audio.warnings)
                std::fprintf(stderr, "harmony: warning: %s: %s\n", path.c_str(), w.c_str());
        record(path, *map);
        if (human) {
            if (many)
                std::printf("%-48s  %s\n", summary_text(*map).c_str(), path.c_str());
            else
                std::printf("%s\n", summary_text(*map).c_str());
            std::fflush(stdout);
            note(map->audio.truncated ? kExitPartial : kExitOk);
            continue;
        }
        auto text = to_json(*map, (o.compact || (many && o.output.empty())) ? -1 : 2);
        if (!text) {
            print_error(text.error());
            note(exit_code_for(text.error().code));
            continue;
        }
        if (o.output.empty()) {
            std::cout << *text << "\n" << std::flush;
        } else {
            const std::string dest =
                many ? (fs::path(o.output) / (fs::path(path).stem().string() + ".json")).string() : o.output;
            if (auto w = write_text_file(dest, *text + "\n"); !w) {
                print_error(w.error());
                note(kExitOutputError);
                continue;
            }
        }
        note(map->audio.truncated ? kExitPartial : kExitOk);
    }
    return worst;
}

}  // namespace

void add_analyze_command(CLI::App& app, CommandList& commands) {
    auto o = std::make_shared<AnalyzeOptions>();
    auto* sub = app.add_subcommand(
        "analyze", "Analyse audio files: a summary on a terminal, Song Map JSON when piped (or --json, -o)");
    sub->add_option("files", o->files, "Audio files or directories")->required();
    sub->add_option("--only", o->only, "Comma-separated analyzer ids (default: all); see `harmony analyzers`");
    sub->add_option("--param,-p", o->params, "Analyzer parameter override, analyzer.name=value (repeatable)");
    sub->add_option("-o,--output", o->output, "Write to this file (a directory when several inputs are given)");
    sub->add_option("--stems", o->stems_dir,
                    "Separate vocals, drums, bass and other into DIR (32-bit float WAV at the source rate, or FLAC "
                    "with --stems-format flac; with several inputs or in batch mode, DIR/<name>/); off by default");
    sub->add_option("--stems-format", o->stems_format,
                    "File format of the stems: wav (32-bit float, default) or flac (24-bit, about half the size)")
        ->check(CLI::IsMember({"wav", "flac"}));
    sub->add_flag("--compact", o->compact, "One-line JSON");
    sub->add_flag("--json", o->json,
                  "Print the Song Map JSON on a terminal too (default there: a summary line per file; JSON when "
                  "piped or with -o)");
    sub->add_flag("--progress", o->progress, "Progress on stderr");
    sub->add_flag("--quiet,-q", o->quiet, "No warnings on stderr");
    sub->add_option("--segment", o->segment_s,
                    "Files longer than 1.5x this many seconds are analysed in overlapping segments of this length "
                    "(bounded memory); 0 = always analyse the whole file at once")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1e9));
    sub->add_option("--threads", o->threads,
                    "Threads per file: decoding, features and independent analyzers overlap (default: every core for "
                    "one file; in batch mode the cores divided between --jobs)")
        ->check(CLI::Range(0, 256));
    add_batch_options(sub, o->batch);
    commands.push_back({sub, [o] { return run_analyze(*o); }});
}

}  // namespace harmony::cli
