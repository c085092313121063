// harmony — command-line front end. Every subcommand goes through the Engine façade.
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stop_token>
#include <string>
#include <thread>
#include <unistd.h>

#include "cli/exit_codes.hpp"
#include "dsp/synth.hpp"
#include "harmony/engine.hpp"
#include "harmony/version.hpp"
#include "io/decoder.hpp"
#include "io/wav_writer.hpp"
#include "serialize/song_map_json.hpp"

namespace fs = std::filesystem;
using namespace harmony;
using namespace harmony::cli;

namespace {

std::stop_source g_stop;
volatile std::sig_atomic_t g_signalled = 0;

void on_signal(int) {
    g_signalled = 1;
}

/// Signal handlers may not touch a stop_source; a watcher thread forwards the flag.
void install_signal_watch() {
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::thread([] {
        while (!g_signalled) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        g_stop.request_stop();
    }).detach();
}

void print_error(const std::string& path, const Error& e) {
    std::fprintf(stderr, "harmony: error: %s [%s]\n", e.message.c_str(), std::string(error_code_name(e.code)).c_str());
    (void)path;
}

Result<void> write_text(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary);
        if (!f) return make_error(ErrorCode::kIoError, "cannot write " + path);
        f << text;
        if (!f.good()) return make_error(ErrorCode::kIoError, "write failed: " + path);
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        return make_error(ErrorCode::kIoError, "cannot write " + path);
    }
    return {};
}

std::vector<std::string> split_csv(const std::string& s) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == ',') {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
        } else if (c != ' ') {
            cur += c;
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}

const char* type_name(ParamType t) {
    switch (t) {
        case ParamType::kBool:
            return "bool";
        case ParamType::kInt:
            return "int";
        case ParamType::kDouble:
            return "number";
        case ParamType::kString:
            return "string";
    }
    return "?";
}

int cmd_analyzers(bool as_json) {
    nlohmann::json all = nlohmann::json::array();
    for (const auto& a : Engine::analyzers()) {
        nlohmann::json params = nlohmann::json::array();
        for (const auto& p : a.params) {
            nlohmann::json j = {{"name", p.name}, {"type", type_name(p.type)}, {"doc", p.doc}};
            j["default"] = std::visit([](const auto& v) { return nlohmann::json(v); }, p.default_value);
            if (p.type == ParamType::kInt || p.type == ParamType::kDouble) j["range"] = {p.min, p.max};
            if (!p.choices.empty()) j["choices"] = p.choices;
            params.push_back(j);
        }
        all.push_back({{"id", a.id},
                       {"version", a.version},
                       {"summary", a.summary},
                       {"depends_on", a.depends_on},
                       {"produces", a.produces},
                       {"params", params}});
    }
    if (as_json) {
        std::cout << all.dump(2) << "\n";
        return kExitOk;
    }
    for (const auto& a : all) {
        std::cout << a["id"].get<std::string>() << "@" << a["version"].get<int>() << "  "
                  << a["summary"].get<std::string>() << "\n";
        for (const auto& p : a["params"]) {
            std::cout << "    " << a["id"].get<std::string>() << "." << p["name"].get<std::string>() << " ("
                      << p["type"].get<std::string>() << ", default " << p["default"].dump();
            if (p.contains("range"))
                std::cout << ", range " << p["range"][0].get<double>() << ".." << p["range"][1].get<double>();
            if (p.contains("choices")) std::cout << ", one of " << p["choices"].dump();
            std::cout << ")  " << p["doc"].get<std::string>() << "\n";
        }
    }
    return kExitOk;
}

struct AnalyzeOptions {
    std::vector<std::string> files;
    std::string only;
    std::vector<std::string> params;
    std::string output;
    bool compact = false;
    bool progress = false;
    bool quiet = false;
};

int cmd_analyze(const AnalyzeOptions& o) {
    AnalysisRequest req;
    req.only = split_csv(o.only);
    for (const auto& kv : o.params) {
        const auto eq = kv.find('=');
        if (eq == std::string::npos) {
            std::fprintf(stderr, "harmony: error: --param expects analyzer.name=value, got '%s'\n", kv.c_str());
            return kExitUsage;
        }
        req.params[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    if (auto r = Engine::resolve(req); !r) {
        print_error("", r.error());
        return kExitUsage;
    }
    const bool many = o.files.size() > 1;
    if (many && !o.output.empty()) {
        std::error_code ec;
        fs::create_directories(o.output, ec);
        if (!fs::is_directory(o.output)) {
            std::fprintf(stderr, "harmony: error: with several inputs, -o must be a directory: %s\n", o.output.c_str());
            return kExitUsage;
        }
    }
    const bool tty = isatty(STDERR_FILENO) != 0;
    int worst = kExitOk;
    auto note = [&](int code) {
        if (severity(code) > severity(worst)) worst = code;
    };
    for (const auto& path : o.files) {
        if (g_stop.stop_requested()) {
            note(kExitInterrupted);
            break;
        }
        EngineOptions eo;
        eo.stop = g_stop.get_token();
        if (o.progress)
            eo.progress = [&](const Progress& p) {
                if (tty)
                    std::fprintf(stderr, "\r%-12s %5.1f%%  %s", p.stage.c_str(), 100.0 * p.fraction, path.c_str());
                else
                    std::fprintf(stderr, "progress %s %s %.3f\n", path.c_str(), p.stage.c_str(), p.fraction);
                if (tty && p.fraction >= 1.0) std::fprintf(stderr, "\n");
            };
        Engine engine(std::move(eo));
        auto map = engine.analyze_file(path, req);
        if (!map) {
            print_error(path, map.error());
            note(exit_code_for(map.error().code));
            continue;
        }
        if (!o.quiet)
            for (const auto& w : map->audio.warnings)
                std::fprintf(stderr, "harmony: warning: %s: %s\n", path.c_str(), w.c_str());
        auto text = to_json(*map, (o.compact || (many && o.output.empty())) ? -1 : 2);
        if (!text) {
            print_error(path, text.error());
            note(exit_code_for(text.error().code));
            continue;
        }
        if (o.output.empty()) {
            std::cout << *text << "\n" << std::flush;
        } else {
            const std::string dest =
                many ? (fs::path(o.output) / (fs::path(path).stem().string() + ".json")).string() : o.output;
            if (auto w = write_text(dest, *text + "\n"); !w) {
                print_error(path, w.error());
                note(kExitOutputError);
                continue;
            }
        }
        note(map->audio.truncated ? kExitPartial : kExitOk);
    }
    return worst;
}

int cmd_decode(const std::string& path, int rate, bool write_raw) {
    io::DecodeCallbacks cb;
    std::int64_t n = 0;
    double sum2 = 0.0;
    cb.on_mono = [&](std::span<const float> s) {
        n += static_cast<std::int64_t>(s.size());
        for (float v : s) sum2 += static_cast<double>(v) * v;
        if (write_raw) std::fwrite(s.data(), sizeof(float), s.size(), stdout);
    };
    io::DecodeOptions opt;
    opt.target_rate_hz = rate;
    opt.stop = g_stop.get_token();
    const auto t0 = std::chrono::steady_clock::now();
    auto r = io::decode_file(path, opt, cb);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!r) {
        print_error(path, r.error());
        return exit_code_for(r.error().code);
    }
    if (!write_raw)
        std::printf(
            "{\"path\": %s, \"samples\": %lld, \"rate_hz\": %d, \"duration_s\": %.6f, \"rms\": %.6f, \"seconds\": "
            "%.4f, \"truncated\": %s}\n",
            nlohmann::json(path).dump().c_str(), static_cast<long long>(n), rate, static_cast<double>(n) / rate,
            n > 0 ? std::sqrt(sum2 / static_cast<double>(n)) : 0.0, secs, r->truncated ? "true" : "false");
    return r->truncated ? kExitPartial : kExitOk;
}

int cmd_demo(const std::string& out, double seconds) {
    auto demo = dsp::synth::make_demo_track(seconds);
    if (auto w = io::write_wav16(out, demo.samples, 1, demo.rate_hz); !w) {
        print_error(out, w.error());
        return kExitOutputError;
    }
    std::fprintf(stderr, "harmony: wrote %s (%.0f s demo: %.0f BPM, 4/4, A minor)\n", out.c_str(), seconds, demo.bpm);
    return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Harmony: turns audio into a Song Map (tempo, beats, key, loudness, ...)", "harmony"};
    app.set_version_flag("--version",
                         std::string("harmony ") + kVersion + " (Song Map schema " + kSongMapSchemaVersion + ")");
    app.require_subcommand(1);

    AnalyzeOptions ao;
    auto* analyze = app.add_subcommand("analyze", "Analyse audio files and print their Song Maps (JSON)");
    analyze->add_option("files", ao.files, "Audio files")->required();
    analyze->add_option("--only", ao.only, "Comma-separated analyzer ids (default: all); see `harmony analyzers`");
    analyze->add_option("--param,-p", ao.params, "Analyzer parameter override, analyzer.name=value (repeatable)");
    analyze->add_option("-o,--output", ao.output, "Write to this file (a directory when several inputs are given)");
    analyze->add_flag("--compact", ao.compact, "One-line JSON");
    analyze->add_flag("--progress", ao.progress, "Progress on stderr");
    analyze->add_flag("--quiet,-q", ao.quiet, "No warnings on stderr");

    bool as_json = false;
    auto* list = app.add_subcommand("analyzers", "List analyzers and their parameters");
    list->add_flag("--json", as_json, "Machine-readable");

    std::string decode_path;
    int decode_rate = 22050;
    bool decode_raw = false;
    auto* decode = app.add_subcommand("decode", "Decode to mono at the analysis rate (timing and checks)");
    decode->add_option("file", decode_path, "Audio file")->required();
    decode->add_option("--rate", decode_rate, "Output rate in Hz")->check(CLI::Range(1000, 384000));
    decode->add_flag("--raw", decode_raw, "Write raw f32le samples to stdout instead of a summary");

    std::string demo_out = "harmony-demo.wav";
    double demo_seconds = 30.0;
    auto* demo = app.add_subcommand("demo", "Synthesise a demo track (drums, bass, chords) to a WAV file");
    demo->add_option("-o,--output", demo_out, "Output WAV path");
    demo->add_option("--seconds", demo_seconds, "Length")->check(CLI::Range(1.0, 600.0));

    auto* schema = app.add_subcommand("schema", "Print the Song Map JSON Schema");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? kExitOk : kExitUsage;
    }
    install_signal_watch();
    try {
        if (*analyze) return cmd_analyze(ao);
        if (*list) return cmd_analyzers(as_json);
        if (*decode) return cmd_decode(decode_path, decode_rate, decode_raw);
        if (*demo) return cmd_demo(demo_out, demo_seconds);
        if (*schema) {
            std::cout << serialize::schema_text();
            return kExitOk;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "harmony: internal error: %s\n", e.what());
        return kExitInternal;
    }
    return kExitUsage;
}
