// SPDX-License-Identifier: Apache-2.0
// cloudtime: the host's command line (query, bench, host-check, status, reload, vendordata, check,
// validate-image).
#include "cli/commands.hpp"

int main(int argc, char** argv) {
    namespace cli = cloudtime::cli;
    return cli::run_subcommands("cloudtime",
                                "cloudtime: measure and check time service in an OpenStack cloud.",
                                {{"query", cli::add_query_command},
                                 {"bench", cli::add_bench_command},
                                 {"host-check", cli::add_host_check_command},
                                 {"status", cli::add_status_command},
                                 {"reload", cli::add_reload_command},
                                 {"vendordata", cli::add_vendordata_command},
                                 {"check", cli::add_check_command},
                                 {"validate-image", cli::add_validate_image_command}},
                                argc, argv);
}
