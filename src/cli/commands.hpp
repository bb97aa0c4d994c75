// SPDX-License-Identifier: Apache-2.0
// Subcommands of `cloudtime` (and of `cloudtime-vm`, the in-VM side): each registers its
// options and returns the runner that gives the exit code to use.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace cloudtime::cli {

using Runner = std::function<int()>;
using Subcommand = Runner (*)(CLI::App& app);

// Adds `query` to the app; the returned runner is valid once the app has parsed.
Runner add_query_command(CLI::App& app);
Runner add_bench_command(CLI::App& app);
Runner add_host_check_command(CLI::App& app);
Runner add_status_command(CLI::App& app);
Runner add_reload_command(CLI::App& app);
Runner add_vendordata_command(CLI::App& app);
Runner add_check_command(CLI::App& app);
Runner add_validate_image_command(CLI::App& app);

// Registers `subcommands` (name, adder), parses, and runs the one given: the whole main() of
// a program made of subcommands. Usage errors exit 64, --help and --version 0.
int run_subcommands(const std::string& program, const std::string& description,
                    const std::vector<std::pair<std::string, Subcommand>>& subcommands, int argc,
                    char** argv);

}  // namespace cloudtime::cli
