// Subcommands of `cloudtime`: each registers its options and returns the exit code to use.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace cloudtime::cli {

using Runner = std::function<int()>;

// Adds `query` to the app; the returned runner is valid once the app has parsed.
Runner add_query_command(CLI::App& app);
Runner add_bench_command(CLI::App& app);
Runner add_host_check_command(CLI::App& app);
Runner add_status_command(CLI::App& app);
Runner add_vendordata_command(CLI::App& app);
Runner add_check_command(CLI::App& app);
Runner add_validate_image_command(CLI::App& app);

}  // namespace cloudtime::cli
