// `cairn`: train, evaluate, version, serve and view models from the command line.
#include <algorithm>
#include <cstdio>
#include <vector>

#include "core/error.h"
#include "native/cli.h"

namespace cairn::cli {

namespace {
std::vector<std::pair<int, Registrar>>& registrars() {
    static std::vector<std::pair<int, Registrar>> r;
    return r;
}
}  // namespace

bool add_commands(int order, Registrar registrar) {
    registrars().emplace_back(order, std::move(registrar));
    return true;
}

}  // namespace cairn::cli

int main(int argc, char** argv) {
    using namespace cairn;
    CLI::App app{"cairn: a model manager for small models (train, evaluate, version, deploy)", "cairn"};
    app.require_subcommand(1);
    auto regs = cli::registrars();
    std::stable_sort(regs.begin(), regs.end(), [](auto& a, auto& b) { return a.first < b.first; });
    for (auto& [order, reg] : regs) reg(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? cli::kOk : cli::kUsage;
    } catch (const Error& e) {
        std::fprintf(stderr, "cairn: error [%s]: %s\n", e.code().c_str(), e.what());
        return cli::kFailure;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cairn: error: %s\n", e.what());
        return cli::kFailure;
    }
    return cli::kOk;
}
