// `harmony library ...` (cmd_library.hpp).
#include "cli/analyze_batch.hpp"
#include "cli/common.hpp"

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "harmony/export.hpp"
#include "library/library.hpp"

namespace harmony::cli {

namespace {

struct LibraryOptions {
    std::string library;
    std::vector<std::string> keys;
    std::string bpm;
    std::string energy;
    std::string path_contains;
    std::string sort = "path";
    bool desc = false;
    int limit = 0;
    bool json = false;
    std::string notation = "camelot";
    std::string format;
    std::string output;
    double bpm_tolerance_pct = 6.0;
    std::string cues = "sections";
    bool notation_given = false;
    bool include_missing = false;
    bool all_copies = false;
    bool dry_run = false;
    DjExportCliOptions dj;
};

// "120-128", "120-", "-128" -> [min, max]; one value "124" -> [123.5, 124.5] (what shows as 124)
// when `widen`, else exactly it.
bool parse_range(const std::string& text, std::optional<double>& lo, std::optional<double>& hi, bool widen = false) {
    if (text.empty()) return true;
    const auto dash = text.find('-', 1);
    try {
        if (dash == std::string::npos) {
            const double v = std::stod(text);
            // The digits given set the precision: "124" matches 123.50-124.49, "124.5" 124.45-124.55.
            const auto dot = text.find('.');
            const double half =
                widen ? 0.5 * std::pow(10.0, -static_cast<double>(dot == std::string::npos ? 0 : text.size() - dot - 1))
                      : 0.0;
            lo = v - half;
            hi = widen ? v + half - 1e-9 : v;
            return true;
        }
        const std::string a = text.substr(0, dash), b = text.substr(dash + 1);
        if (!a.empty()) lo = std::stod(a);
        if (!b.empty()) hi = std::stod(b);
        return lo || hi;
    } catch (const std::exception&) {
        return false;
    }
}

Result<std::unique_ptr<library::Library>> open_library(const LibraryOptions& o) {
    return library::Library::open(o.library.empty() ? library::default_library_path() : o.library);
}

Result<library::Query> make_query(const LibraryOptions& o, bool with_json) {
    library::Query q;
    for (const auto& k : o.keys)
        for (const auto& part : split_csv(k)) q.camelot.push_back(part);
    if (!parse_range(o.bpm, q.bpm_min, q.bpm_max, true))
        return make_error(ErrorCode::kInvalidArgument, "--bpm expects MIN-MAX (e.g. 120-128), got '" + o.bpm + "'");
    std::optional<double> elo, ehi;
    if (!parse_range(o.energy, elo, ehi))
        return make_error(ErrorCode::kInvalidArgument, "--energy expects MIN-MAX (e.g. 6-10), got '" + o.energy + "'");
    if (elo) q.energy_min = static_cast<int>(*elo);
    if (ehi) q.energy_max = static_cast<int>(*ehi);
    q.path_contains = o.path_contains;
    q.sort = o.sort;
    q.descending = o.desc;
    q.limit = o.limit;
    q.with_json = with_json;
    q.include_missing = o.include_missing;
    q.all_copies = o.all_copies;
    return q;
}

void add_filters(CLI::App* sub, LibraryOptions& o) {
    sub->add_option("--library", o.library, "Library database (default: $HARMONY_LIBRARY or the user data dir)");
    sub->add_option("--key,-k", o.keys, "Keys (Camelot 8A, standard Am, Open Key 1m); repeatable or comma-separated");
    sub->add_option("--bpm", o.bpm, "BPM range MIN-MAX (e.g. 120-128)");
    sub->add_option("--energy", o.energy, "Energy range MIN-MAX, 1-10");
    sub->add_option("--path-contains", o.path_contains, "Only paths containing this text");
    sub->add_option("--sort", o.sort, "path, title, artist, bpm, key, energy, loudness, duration, analyzed")
        ->capture_default_str();
    sub->add_flag("--desc", o.desc, "Descending order");
    sub->add_option("--limit", o.limit, "At most this many tracks");
    sub->add_flag("--include-missing", o.include_missing, "Also files that no longer exist (see `library prune`)");
    sub->add_flag("--all-copies", o.all_copies,
                  "Every path of identical audio (default: one per content; see `library duplicates`)");
}

std::string key_in(const library::TrackRow& r, KeyNotation n) {
    if (r.camelot.empty()) return "-";
    switch (n) {
        case KeyNotation::kCamelot:
            return r.camelot;
        case KeyNotation::kOpenKey:
            return r.open_key;
        case KeyNotation::kStandard:
            break;
    }
    return r.key_label;
}

/// Opens the library and runs the query; on failure prints the error and returns the exit code.
int query_rows(const LibraryOptions& o, const library::Query& q, std::vector<library::TrackRow>& rows) {
    auto lib = open_library(o);
    if (!lib) {
        print_error(lib.error());
        return kExitOutputError;
    }
    auto r = (*lib)->list(q);
    if (!r) {
        print_error(r.error());
        return r.error().code == ErrorCode::kInvalidArgument ? kExitUsage : kExitOutputError;
    }
    rows = std::move(*r);
    return kExitOk;
}

int run_list(const LibraryOptions& o) {
    auto notation = parse_key_notation(o.notation);
    auto q = make_query(o, false);
    if (!notation || !q) {
        print_error(!notation ? notation.error() : q.error());
        return kExitUsage;
    }
    std::vector<library::TrackRow> rows;
    if (const int code = query_rows(o, *q, rows); code != kExitOk) return code;
    if (o.json) {
        nlohmann::json a = nlohmann::json::array();
        for (const auto& r : rows) {
            nlohmann::json j = {
                {"path", r.path},
                {"title", r.title},
                {"artist", r.artist.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.artist)},
                {"copies", r.copies},
                {"missing", r.missing},
                {"duration_s", r.duration_s},
                {"bpm", r.bpm ? nlohmann::json(*r.bpm) : nlohmann::json(nullptr)},
                {"key", r.key_label.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.key_label)},
                {"camelot", r.camelot.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.camelot)},
                {"open_key", r.open_key.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.open_key)},
                {"energy", r.energy ? nlohmann::json(*r.energy) : nlohmann::json(nullptr)},
                {"integrated_lufs", r.integrated_lufs ? nlohmann::json(*r.integrated_lufs) : nlohmann::json(nullptr)},
                {"content_hash", r.content_hash},
                {"analyzed_at", r.analyzed_at}};
            a.push_back(std::move(j));
        }
        std::cout << a.dump(2) << "\n";
        return kExitOk;
    }
    std::printf("%7s  %-9s  %6s  %6s  %8s  %s\n", "BPM", "KEY", "ENERGY", "LUFS", "TIME", "PATH");
    for (const auto& r : rows) {
        char bpm[32] = "-", lufs[32] = "-", energy[16] = "-", time[48];
        if (r.bpm) std::snprintf(bpm, sizeof bpm, "%.2f", *r.bpm);
        if (r.integrated_lufs) std::snprintf(lufs, sizeof lufs, "%.1f", *r.integrated_lufs);
        if (r.energy) std::snprintf(energy, sizeof energy, "%d", *r.energy);
        const long t = static_cast<long>(r.duration_s + 0.5);
        std::snprintf(time, sizeof time, "%ld:%02ld", t / 60, t % 60);
        std::printf("%7s  %-9s  %6s  %6s  %8s  %s\n", bpm, key_in(r, *notation).c_str(), energy, lufs, time,
                    r.path.c_str());
    }
    std::fprintf(stderr, "harmony: %zu tracks\n", rows.size());
    return kExitOk;
}

int run_export(const LibraryOptions& o) {
    auto format = parse_export_format(o.format);
    auto notation = parse_key_notation(o.notation);
    auto cues = parse_cue_source(o.cues);
    auto q = make_query(o, true);
    if (!format || !notation || !q || !cues) {
        print_error(!format ? format.error() : !notation ? notation.error() : !q ? q.error() : cues.error());
        return kExitUsage;
    }
    std::vector<library::TrackRow> rows;
    if (const int code = query_rows(o, *q, rows); code != kExitOk) return code;
    std::vector<SongMap> maps;
    int worst = kExitOk;
    for (const auto& r : rows) {
        auto m = song_map_from_json(r.song_map_json);
        if (!m) {
            print_error(make_error(m.error().code, r.path + ": stored Song Map unreadable: " + m.error().message));
            worst = kExitSchema;
            continue;
        }
        m->audio.path = r.path;
        maps.push_back(std::move(m.value()));
    }
    if (maps.empty()) {
        print_error(make_error(ErrorCode::kInvalidArgument, "no tracks in the library match"));
        return kExitInputError;
    }
    ExportOptions eo;
    eo.key_notation = *notation;
    eo.cues = *cues;
    if (o.notation_given) eo.dj_key_notation = *notation;
    eo.playlist_bpm_tolerance_pct = o.bpm_tolerance_pct;
    if (!apply_dj_export_options(o.dj, eo)) return kExitUsage;
    filter_playable(maps, *format, o.dj);
    if (maps.empty()) {
        print_error(make_error(ErrorCode::kInvalidArgument, "no track left to export"));
        return kExitInputError;
    }
    if (const int rc = write_export(maps, *format, eo, o.output); rc != kExitOk) return rc;
    std::fprintf(stderr, "harmony: exported %zu tracks (%s)\n", maps.size(),
                 std::string(export_format_name(*format)).c_str());
    return worst;
}

int run_prune(const LibraryOptions& o) {
    auto lib = open_library(o);
    if (!lib) {
        print_error(lib.error());
        return kExitOutputError;
    }
    auto rep = (*lib)->prune(o.dry_run);
    if (!rep) {
        print_error(rep.error());
        return kExitOutputError;
    }
    for (const auto& p : rep->missing_paths) std::printf("%s\n", p.c_str());
    std::fprintf(stderr, "harmony: %s %zu missing file(s) and %lld analysis(es) no file holds%s\n",
                 o.dry_run ? "would forget" : "forgot", rep->missing_paths.size(),
                 static_cast<long long>(rep->orphan_analyses), o.dry_run ? " (dry run)" : "");
    return kExitOk;
}

int run_duplicates(const LibraryOptions& o) {
    auto lib = open_library(o);
    if (!lib) {
        print_error(lib.error());
        return kExitOutputError;
    }
    auto groups = (*lib)->duplicates();
    if (!groups) {
        print_error(groups.error());
        return kExitOutputError;
    }
    if (o.json) {
        std::cout << nlohmann::json(*groups).dump(2) << "\n";
    } else {
        for (size_t i = 0; i < groups->size(); ++i) {
            if (i) std::printf("\n");
            for (const auto& p : (*groups)[i]) std::printf("%s\n", p.c_str());
        }
    }
    std::fprintf(stderr, "harmony: %zu group(s) of identical audio\n", groups->size());
    return kExitOk;
}

int run_stats(const LibraryOptions& o) {
    auto lib = open_library(o);
    if (!lib) {
        print_error(lib.error());
        return kExitOutputError;
    }
    auto st = (*lib)->stats();
    if (!st) {
        print_error(st.error());
        return kExitOutputError;
    }
    if (o.json) {
        std::cout << nlohmann::json{{"path", (*lib)->path()},   {"files", st->files},       {"analyses", st->analyses},
                                    {"with_bpm", st->with_bpm}, {"with_key", st->with_key}, {"bytes", st->bytes}}
                         .dump(2)
                  << "\n";
    } else {
        std::printf("library   %s\nfiles     %lld\nanalyses  %lld\nwith BPM  %lld\nwith key  %lld\nsize      %.1f MB\n",
                    (*lib)->path().c_str(), static_cast<long long>(st->files), static_cast<long long>(st->analyses),
                    static_cast<long long>(st->with_bpm), static_cast<long long>(st->with_key),
                    static_cast<double>(st->bytes) / 1e6);
    }
    return kExitOk;
}

}  // namespace

void add_library_command(CLI::App& app, CommandList& commands) {
    auto o = std::make_shared<LibraryOptions>();
    auto* lib = app.add_subcommand("library", "Query and export the local track library (SQLite)");
    lib->require_subcommand(1);

    auto* list = lib->add_subcommand("list", "List tracks: filter by key, BPM, energy; sort; table or JSON");
    add_filters(list, *o);
    list->add_flag("--json", o->json, "JSON array instead of a table");
    list->add_option("--key-notation", o->notation, "Key column: camelot, standard, openkey")->capture_default_str();

    auto* exp = lib->add_subcommand(
        "export",
        "Export tracks: json, csv, jams, beats, lab, sections-lab, chordpro, rekordbox, traktor, m3u, midi, "
        "mixxx, enginedj");
    exp->add_option("format", o->format, "Export format")->required();
    exp->add_option(
        "-o,--output", o->output,
        "Output file (default: stdout); a directory for jams/beats/lab of several tracks; the Engine Library "
        "folder for enginedj");
    add_filters(exp, *o);
    exp->add_option_function<std::string>(
        "--key-notation",
        [o](const std::string& v) {
            o->notation = v;
            o->notation_given = true;
        },
        "Key notation: standard, camelot, openkey (CSV and M3U default camelot; rekordbox and Traktor keep their "
        "own unless given)");
    add_dj_export_options(exp, o->dj);
    exp->add_option(
           "--cues", o->cues,
           "DJ cue points: sections, phrases (the analyzer's 4/8-bar phrases), phrases8 | phrases16 | phrases32 "
           "(DJ phrase grid counted from each section start), none")
        ->capture_default_str();
    exp->add_option("--bpm-tolerance", o->bpm_tolerance_pct, "M3U: max BPM step between neighbours, percent")
        ->capture_default_str();

    auto* stats = lib->add_subcommand("stats", "Counts and size of the library");
    stats->add_option("--library", o->library, "Library database");
    stats->add_flag("--json", o->json, "JSON output");

    auto* prune = lib->add_subcommand("prune", "Forget files that no longer exist and analyses no file holds");
    prune->add_option("--library", o->library, "Library database");
    prune->add_flag("--dry-run", o->dry_run, "List what would be forgotten, change nothing");

    auto* dups = lib->add_subcommand("duplicates", "List groups of files holding identical audio (tags ignored)");
    dups->add_option("--library", o->library, "Library database");
    dups->add_flag("--json", o->json, "JSON array of groups");

    auto* path = lib->add_subcommand("path", "Print the library's path");
    path->add_option("--library", o->library, "Library database");

    commands.push_back(
        {lib, [o, list, exp, stats, path, prune, dups]() -> int {
             if (list->parsed()) return run_list(*o);
             if (prune->parsed()) return run_prune(*o);
             if (dups->parsed()) return run_duplicates(*o);
             if (exp->parsed()) return run_export(*o);
             if (stats->parsed()) return run_stats(*o);
             if (path->parsed()) {
                 std::printf("%s\n", (o->library.empty() ? library::default_library_path() : o->library).c_str());
                 return kExitOk;
             }
             return kExitUsage;
         }});
}

}  // namespace harmony::cli
