// SPDX-License-Identifier: Apache-2.0
#include <iostream>
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
    // A first word that is no subcommand: named, with the nearest one (CLI11 would only say
    // "A subcommand is required").
    if (argc > 1 && argv[1][0] != '-' && !runners.contains(argv[1])) {
        const std::string word = argv[1];
        std::string nearest;
        for (const auto& [name, run] : runners) {
            if (name.starts_with(word) || word.starts_with(name)) {
                nearest = name;
            }
        }
        std::cerr << program << ": '" << word << "' is not a subcommand"
                  << (nearest.empty() ? "" : "; did you mean '" + nearest + "'?") << " (" << program
                  << " --help lists them)\n";
        return kExitUsage;
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
