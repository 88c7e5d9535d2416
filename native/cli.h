// The `cairn` command line: each native/cmd_*.cpp registers its subcommands here at start-up,
// so adding a command never touches main().
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace cairn::cli {

// Called once with the root app; adds one or more subcommands and their callbacks.
using Registrar = std::function<void(CLI::App& app)>;

// Use at namespace scope in a cmd_*.cpp:  static const bool registered = cli::add_commands(100, [](CLI::App& app) {...});
// `order` sorts the help listing.
bool add_commands(int order, Registrar registrar);

// Exit codes shared by all commands.
enum ExitCode { kOk = 0, kFailure = 1, kUsage = 2 };

}  // namespace cairn::cli
