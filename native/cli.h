// The `cairn` command line: each native/cmd_*.cpp registers its subcommands here at start-up,
// so adding a command never touches main().
#pragma once
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <string>

namespace cairn::cli {

// Called once with the root app; adds one or more subcommands and their callbacks.
using Registrar = std::function<void(CLI::App& app)>;

// Use at namespace scope in a cmd_*.cpp:  static const bool registered = cli::add_commands(100, [](CLI::App& app) {...});
// `order` sorts the help listing.
bool add_commands(int order, Registrar registrar);

// A number check for ->check() whose message says what was expected ("--batch: expected a positive number, got
// '0'"); CLI11's own print their range as 0 to 1.8e308. `above_lo`: lo itself is refused.
inline CLI::Validator number_check(double lo, double hi, bool above_lo, const std::string& expected) {
    return CLI::Validator(
        [=](std::string& text) {
            char* end = nullptr;
            const double v = std::strtod(text.c_str(), &end);
            const bool ok = end != text.c_str() && *end == '\0' && std::isfinite(v) && (above_lo ? v > lo : v >= lo) && v <= hi;
            return ok ? std::string() : "expected " + expected + ", got '" + text + "'";
        },
        "");
}
inline CLI::Validator positive() { return number_check(0, HUGE_VAL, true, "a positive number"); }
inline CLI::Validator non_negative() { return number_check(0, HUGE_VAL, false, "0 or more"); }
inline CLI::Validator fraction_up_to(double hi) { return number_check(0, hi, false, "a fraction from 0 to " + CLI::detail::to_string(hi)); }

// Exit codes shared by all commands.
enum ExitCode { kOk = 0, kFailure = 1, kUsage = 2 };

}  // namespace cairn::cli
