// cloudtime: the command line (query, bench, host-check, status, vendordata, check,
// validate-image).
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"

int main(int argc, char** argv) {
    CLI::App app{"cloudtime: measure and check time service in an OpenStack cloud."};
    app.set_version_flag("--version", std::string("cloudtime ") + CLOUDTIME_VERSION);
    app.require_subcommand(1);
    const auto run_query = cloudtime::cli::add_query_command(app);
    const auto run_bench = cloudtime::cli::add_bench_command(app);
    const auto run_host_check = cloudtime::cli::add_host_check_command(app);
    const auto run_status = cloudtime::cli::add_status_command(app);
    const auto run_vendordata = cloudtime::cli::add_vendordata_command(app);
    const auto run_check = cloudtime::cli::add_check_command(app);
    const auto run_validate = cloudtime::cli::add_validate_image_command(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? cloudtime::cli::kExitOk : cloudtime::cli::kExitUsage;
    }
    if (app.got_subcommand("query")) {
        return run_query();
    }
    if (app.got_subcommand("bench")) {
        return run_bench();
    }
    if (app.got_subcommand("host-check")) {
        return run_host_check();
    }
    if (app.got_subcommand("status")) {
        return run_status();
    }
    if (app.got_subcommand("vendordata")) {
        return run_vendordata();
    }
    if (app.got_subcommand("check")) {
        return run_check();
    }
    if (app.got_subcommand("validate-image")) {
        return run_validate();
    }
    return cloudtime::cli::kExitUsage;
}
