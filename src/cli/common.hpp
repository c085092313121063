// Shared plumbing of the CLI subcommands.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "cli/exit_codes.hpp"
#include "harmony/error.hpp"

namespace harmony::cli {

/// A subcommand: its CLI11 node and what to run when it was chosen. Each front-end module
/// (analyze, library, serve, worker, ...) adds its own with an add_*_command function.
struct Command {
    CLI::App* sub = nullptr;
    std::function<int()> run;
};
using CommandList = std::vector<Command>;

void add_analyze_command(CLI::App& app, CommandList& commands);
void add_tool_commands(CLI::App& app, CommandList& commands);    // analyzers, decode, demo, schema
void add_library_command(CLI::App& app, CommandList& commands);  // library list|export|stats|path
void add_serve_commands(CLI::App& app, CommandList& commands);   // serve, worker

/// Stop token triggered by SIGINT/SIGTERM (after install_signal_watch()).
std::stop_token global_stop_token();
/// Triggered by a second SIGINT/SIGTERM: stop now, without waiting for a graceful drain.
std::stop_token global_hard_stop_token();
void install_signal_watch();

/// "harmony: error: <message> [<code>]" on stderr, one line.
void print_error(const Error& e);

/// Writes `text` to `path`: a regular file through a temporary renamed into place (a symlink is
/// written through); a device, FIFO or socket directly.
Result<void> write_text_file(const std::string& path, const std::string& text);
/// The temporary-and-rename write of a regular file.
Result<void> write_regular_file(const std::string& path, const std::string& text);

std::vector<std::string> split_csv(const std::string& s);

}  // namespace harmony::cli
