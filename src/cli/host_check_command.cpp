// SPDX-License-Identifier: Apache-2.0
// `cloudtime host-check [--chrony-socket PATH] [--leap-seconds-file PATH] [--cloudtimed ADDR]
//  [--json | --scs]`: is this hypervisor ready to serve time to its VMs?
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "check/host_check.hpp"
#include "cli/check_output.hpp"
#include "cli/commands.hpp"

namespace cloudtime::cli {

namespace {

struct HostCheckArgs {
    check::HostCheckOptions options;
    check::HostThresholds thresholds;
    std::string cloudtimed;
    bool json = false;
    bool scs = false;
};

int run(HostCheckArgs& args) {
    if (!args.cloudtimed.empty()) {
        args.options.cloudtimed = args.cloudtimed;
    }
    const check::HostFacts facts = check::gather_host_facts(args.options);
    const auto results = check::evaluate_host(facts, args.thresholds);
    return print_report({checker_name(), results, nlohmann::json::object()},
                        args.json  ? CheckOutput::json
                        : args.scs ? CheckOutput::scs
                                   : CheckOutput::human,
                        {},
                        {"host ready", "host NOT ready: a check failed",
                         "host readiness unknown: a check could not be run"});
}

}  // namespace

Runner add_host_check_command(CLI::App& app) {
    auto args = std::make_shared<HostCheckArgs>();
    CLI::App* cmd = app.add_subcommand(
        "host-check",
        "Is this hypervisor ready to serve time to VMs? Checks the kernel clock, chronyd, the\n"
        "leap status, the clocksource, /dev/kvm, leap-seconds.list and a local cloudtimed.\n"
        "Exit codes: 0 every check passed (or warned); 1 a check failed; 2 a check could not be "
        "run; 64 usage error.");
    cmd->add_option("--chrony-socket", args->options.chrony_socket,
                    "chronyd's command socket (default /run/chrony/chronyd.sock)");
    cmd->add_option("--leap-seconds-file", args->options.leap_seconds_file,
                    "the leap seconds list (default /usr/share/zoneinfo/leap-seconds.list)");
    cmd->add_option("--cloudtimed", args->cloudtimed,
                    "ADDR[:PORT] of a local cloudtimed to query (default: not checked)");
    cmd->add_option("--clocksource-file", args->options.clocksource_file,
                    "where the current clocksource is read (for tests)");
    cmd->add_option("--kvm-device", args->options.kvm_device, "the KVM device (for tests)");
    cmd->add_option("--offset-warn", args->thresholds.offset_warn_s,
                    "seconds of offset that warn (default 0.001)")
        ->check(CLI::Range(0.0, 10.0));
    cmd->add_option("--offset-fail", args->thresholds.offset_fail_s,
                    "seconds of offset that fail (default 0.05)")
        ->check(CLI::Range(0.0, 10.0));
    auto* json = cmd->add_flag("-j,--json", args->json, "print one JSON object");
    cmd->add_flag("--scs", args->scs, "print 'scs-0129-<check>: PASS|FAIL|ABORT' lines")
        ->excludes(json);
    return [args] { return run(*args); };
}

}  // namespace cloudtime::cli
