// SPDX-License-Identifier: Apache-2.0
// cloudtime-vm: the in-VM side alone (check, query), one static executable that a tenant copies
// into any x86-64 Linux VM and runs; no daemon code, no shared library.
#include "cli/commands.hpp"

int main(int argc, char** argv) {
    namespace cli = cloudtime::cli;
    return cli::run_subcommands(
        "cloudtime-vm",
        "cloudtime-vm: inside a VM, check that its clock gets the cloud's time, and measure NTP "
        "servers.",
        {{"check", cli::add_check_command}, {"query", cli::add_query_command}}, argc, argv);
}
