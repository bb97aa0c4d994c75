// SPDX-License-Identifier: Apache-2.0
#include <map>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"

namespace cloudtime::cli {

int run_subcommands(const std::string& program, const std::string& description,
                    const std::vector<std::pair<std::string, Subcommand>>& subcommands, int argc,
                    char** argv) {
    CLI::App app{description};
    app.set_version_flag("--version", program + " " + CLOUDTIME_VERSION);
    app.require_subcommand(1);
    std::map<std::string, Runner> runners;
    for (const auto& [name, add] : subcommands) {
        runners[name] = add(app);
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? kExitOk : kExitUsage;
    }
    for (const auto& [name, run] : runners) {
        if (app.got_subcommand(name)) {
            return run();
        }
    }
    return kExitUsage;
}

}  // namespace cloudtime::cli
