// harmony — command-line front end. Every subcommand goes through the Engine façade; each lives in
// its own cmd_*.cpp and registers itself with an add_*_command function.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "cli/common.hpp"
#include "harmony/version.hpp"

using namespace harmony;
using namespace harmony::cli;

int main(int argc, char** argv) {
    CLI::App app{"Harmony: turns audio into a Song Map (tempo, beats, key, loudness, ...)", "harmony"};
    app.set_version_flag("--version",
                         std::string("harmony ") + kVersion + " (Song Map schema " + kSongMapSchemaVersion + ")");
    app.require_subcommand(1);

    CommandList commands;
    add_analyze_command(app, commands);
    add_tool_commands(app, commands);
    add_library_command(app, commands);
    add_serve_commands(app, commands);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? kExitOk : kExitUsage;
    }
    install_signal_watch();
    try {
        for (const auto& c : commands)
            if (c.sub->parsed()) return c.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "harmony: internal error: %s\n", e.what());
        return kExitInternal;
    }
    return kExitUsage;
}
