// `harmony analyzers`, `harmony decode`, `harmony demo`, `harmony schema`
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/common.hpp"
#include "dsp/synth.hpp"
#include "harmony/engine.hpp"
#include "io/decoder.hpp"
#include "io/wav_writer.hpp"
#include "serialize/song_map_json.hpp"

namespace harmony::cli {

namespace {

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

int run_analyzers(bool as_json) {
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
        const auto id = a["id"].get<std::string>();
        std::cout << id << "@" << a["version"].get<int>() << "  " << a["summary"].get<std::string>() << "\n";
        for (const auto& p : a["params"]) {
            std::cout << "    " << id << "." << p["name"].get<std::string>() << " (" << p["type"].get<std::string>()
                      << ", default " << p["default"].dump();
            if (p.contains("range"))
                std::cout << ", range " << p["range"][0].get<double>() << ".." << p["range"][1].get<double>();
            if (p.contains("choices")) std::cout << ", one of " << p["choices"].dump();
            std::cout << ")  " << p["doc"].get<std::string>() << "\n";
        }
    }
    return kExitOk;
}

int run_decode(const std::string& path, int rate, bool write_raw) {
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
    opt.stop = global_stop_token();
    const auto t0 = std::chrono::steady_clock::now();
    auto r = io::decode_file(path, opt, cb);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!r) {
        print_error(r.error());
        return exit_code_for(r.error().code);
    }
    if (!write_raw) {
        const nlohmann::json j = {{"path", path},
                                  {"samples", n},
                                  {"rate_hz", rate},
                                  {"duration_s", static_cast<double>(n) / rate},
                                  {"rms", n > 0 ? std::sqrt(sum2 / static_cast<double>(n)) : 0.0},
                                  {"seconds", secs},
                                  {"truncated", r->truncated},
                                  {"warnings", r->warnings}};
        std::cout << j.dump() << "\n";
    }
    return r->truncated ? kExitPartial : kExitOk;
}

int run_demo(const std::string& out, double seconds) {
    auto demo = dsp::synth::make_demo_track(seconds);
    if (auto w = io::write_wav16(out, demo.samples, 1, demo.rate_hz); !w) {
        print_error(w.error());
        return kExitOutputError;
    }
    std::fprintf(stderr, "harmony: wrote %s (%.0f s demo: %.0f BPM, 4/4, A minor)\n", out.c_str(), seconds, demo.bpm);
    return kExitOk;
}

}  // namespace

void add_tool_commands(CLI::App& app, CommandList& commands) {
    auto as_json = std::make_shared<bool>(false);
    auto* list = app.add_subcommand("analyzers", "List analyzers, their versions and parameters");
    list->add_flag("--json", *as_json, "Machine-readable");
    commands.push_back({list, [as_json] { return run_analyzers(*as_json); }});

    struct DecodeArgs {
        std::string path;
        int rate = 22050;
        bool raw = false;
    };
    auto d = std::make_shared<DecodeArgs>();
    auto* decode = app.add_subcommand("decode", "Decode to mono at the analysis rate (timing and checks)");
    decode->add_option("file", d->path, "Audio file")->required();
    decode->add_option("--rate", d->rate, "Output rate in Hz")->check(CLI::Range(1000, 384000));
    decode->add_flag("--raw", d->raw, "Write raw f32le samples to stdout instead of a summary");
    commands.push_back({decode, [d] { return run_decode(d->path, d->rate, d->raw); }});

    struct DemoArgs {
        std::string out = "harmony-demo.wav";
        double seconds = 30.0;
    };
    auto m = std::make_shared<DemoArgs>();
    auto* demo = app.add_subcommand("demo", "Synthesise a demo track (drums, bass, chords) to a WAV file");
    demo->add_option("-o,--output", m->out, "Output WAV path");
    demo->add_option("--seconds", m->seconds, "Length")->check(CLI::Range(1.0, 600.0));
    commands.push_back({demo, [m] { return run_demo(m->out, m->seconds); }});

    auto* schema = app.add_subcommand("schema", "Print the Song Map JSON Schema");
    commands.push_back({schema, [] {
                            std::cout << serialize::schema_text();
                            return static_cast<int>(kExitOk);
                        }});
}

}  // namespace harmony::cli
