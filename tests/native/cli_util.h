// Runs the `cairn` binary as a user would, for the CLI tests.
#pragma once
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace cairn::test {

struct CliRun {
    int status;
    std::string out;
};

inline std::string cairn_binary() { return std::string(CAIRN_BINARY_DIR) + "/native/cairn"; }
inline bool cairn_binary_built() { return std::filesystem::exists(cairn_binary()); }

// Runs a shell command line, with stderr folded into the output.
inline CliRun run_shell(const std::string& command) {
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int st = ::pclose(p);
    return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

inline CliRun cairn_cli(const std::string& args) { return run_shell(cairn_binary() + " " + args); }

}  // namespace cairn::test
