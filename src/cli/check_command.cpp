// SPDX-License-Identifier: Apache-2.0
// `cloudtime check`: inside a VM, where can it get time, is its clock synchronized, and how
// well. Prints the facts and the verdicts (human, --json, or --scs lines).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "check/vm_discovery.hpp"
#include "check/vm_report.hpp"
#include "cli/check_output.hpp"
#include "cli/commands.hpp"

namespace cloudtime::cli {

namespace {

struct CheckArgs {
    check::VmCheckOptions options;
    check::VmThresholds thresholds;
    std::vector<std::string> config_drives;
    std::vector<std::string> lease_files;
    std::string redundancy = "advisory";
    double wait_s = 0.0;
    bool no_metadata = false;
    bool json = false;
    bool scs = false;
};

// The most requests this round sent to one server.
int requests_per_server(const check::VmFacts& f) {
    int most = 0;
    for (const auto& s : f.servers) {
        most = std::max(most, s.result ? s.result->sent : 0);
    }
    return most;
}

int run(CheckArgs& args) {
    if (!args.config_drives.empty()) {
        args.options.config_drives = args.config_drives;
    }
    if (!args.lease_files.empty()) {
        args.options.lease_files = args.lease_files;
    }
    if (args.no_metadata) {
        args.options.metadata_url.clear();
    }
    args.thresholds.redundancy = args.redundancy == "required"   ? check::RedundancyRule::required
                                 : args.redundancy == "advisory" ? check::RedundancyRule::advisory
                                                                 : check::RedundancyRule::off;
    // With --wait, look again while a check fails (a VM just booted: chronyd needs a few polls
    // to follow the cloud's server, and seconds to slew its clock onto it).
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(args.wait_s);
    check::VmFacts facts = check::gather_vm_facts(args.options);
    auto results = check::evaluate_vm(facts, args.thresholds);
    // How long chronyd may list only others' servers before that is taken as its
    // configuration: a restart the vendordata script queued takes seconds, even under TCG.
    constexpr auto kConfiguredElsewhereFor = std::chrono::seconds(20);
    constexpr auto kNotSeen = std::chrono::steady_clock::time_point::max();
    auto elsewhere_since = kNotSeen;
    while (std::chrono::steady_clock::now() < deadline && check::waiting_may_help(facts, results)) {
        const auto now = std::chrono::steady_clock::now();
        if (!check::configured_elsewhere(facts, results)) {
            elsewhere_since = kNotSeen;
        } else if (elsewhere_since == kNotSeen) {
            elsewhere_since = now;
        } else if (now - elsewhere_since >= kConfiguredElsewhereFor) {
            break;
        }
        // Progress on stderr (stdout stays one report): what still fails, and for how long
        // this goes on.
        const auto left = std::chrono::duration_cast<std::chrono::seconds>(
            deadline - std::chrono::steady_clock::now());
        for (const auto& r : results) {
            if (r.verdict == check::Verdict::fail) {
                fmt::print(stderr, "waiting ({} s left): {}: {}\n", left.count(), r.id, r.reason);
            }
        }
        // Paced so that this check, added to the VM's own client, stays within a server's
        // default rate limit (one request per 2 s on average).
        std::this_thread::sleep_for(std::chrono::seconds(2) *
                                    std::max(1, requests_per_server(facts)));
        facts = check::gather_vm_facts(args.options);
        results = check::evaluate_vm(facts, args.thresholds);
    }
    const check::Report report{checker_name(), results, check::vm_facts_json(facts)};
    return print_report(report,
                        args.json  ? CheckOutput::json
                        : args.scs ? CheckOutput::scs
                                   : CheckOutput::human,
                        check::vm_facts_table(facts),
                        {facts.opted_out.empty()
                             ? "time in this VM: OK"
                             : "time in this VM: opted out of the cloud's time (cloudtime_ntp=off)",
                         "time in this VM: NOT OK (a check failed)",
                         "time in this VM: unknown (a check could not be run)"});
}

}  // namespace

Runner add_check_command(CLI::App& app) {
    auto args = std::make_shared<CheckArgs>();
    CLI::App* cmd = app.add_subcommand(
        "check",
        "Inside a VM: where can it get time (metadata vendordata, config drive, DHCP, link-local\n"
        "NTP, PTP clocks), is its NTP client synchronized to the cloud, and how well.\n"
        "Exit codes: 0 every check passed (or warned); 1 a check failed; 2 a check could not be "
        "run; 64 usage error.");
    auto& o = args->options;
    cmd->add_option("--metadata-url", o.metadata_url,
                    "where vendor_data2.json and vendor_data.json are (default "
                    "http://169.254.169.254/openstack/latest/)");
    cmd->add_flag("--no-metadata", args->no_metadata, "do not ask the metadata service");
    cmd->add_option("--config-drive", args->config_drives,
                    "a directory where a config drive is mounted (repeatable)");
    cmd->add_option("--lease-file", args->lease_files,
                    "a DHCP lease file or pattern (repeatable; default: dhclient's, "
                    "systemd-networkd's, NetworkManager's)");
    cmd->add_option("--link-local", o.link_local,
                    "link-local NTP addresses to probe (default 169.254.169.254 "
                    "169.254.169.123 fe80::a9fe:a9fe)");
    cmd->add_option("--chrony-socket", o.chrony_socket,
                    "chronyd's command socket (default /run/chrony/chronyd.sock)");
    cmd->add_option("--ptp-sysfs", o.ptp_sysfs, "where PTP clocks are listed (for tests)");
    cmd->add_option("--samples", o.measurement.samples,
                    "samples per NTP server the NTP client does not follow (default 4; jitter "
                    "needs 3)")
        ->check(CLI::Range(3, 64));
    cmd->add_option("--offset-warn", args->thresholds.offset_warn_s,
                    "seconds of offset that warn (default 0.010)")
        ->check(CLI::Range(0.0, 10.0));
    cmd->add_option("--offset-fail", args->thresholds.offset_fail_s,
                    "seconds of offset that fail (default 0.050)")
        ->check(CLI::Range(0.0, 10.0));
    cmd->add_option("--jitter-fail", args->thresholds.jitter_fail_s,
                    "seconds of jitter that fail (default 0.005)")
        ->check(CLI::Range(0.0, 10.0));
    cmd->add_option("--redundancy", args->redundancy,
                    "a PTP clock or two distinct cloud NTP servers: advisory (default: warn, "
                    "saying what to add), required (fail), off")
        ->check(CLI::IsMember({"required", "advisory", "off"}));
    cmd->add_option("--wait", args->wait_s,
                    "seconds to look again while a check fails and time was delivered, every 2 s "
                    "per request a round sent to one server; progress on stderr (default 0)")
        ->check(CLI::Range(0.0, 3600.0));
    auto* json = cmd->add_flag("-j,--json", args->json, "print one JSON object");
    cmd->add_flag("--scs", args->scs, "print 'scs-0129-<check>: PASS|FAIL|ABORT' lines")
        ->excludes(json);
    return [args] { return run(*args); };
}

}  // namespace cloudtime::cli
