// SPDX-License-Identifier: Apache-2.0
// `cloudtime check`: inside a VM, where can it get time, is its clock synchronized, and how
// well. Prints the facts and the verdicts (human, --json, or --scs lines).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "check/console_facts.hpp"
#include "check/vm_discovery.hpp"
#include "check/vm_report.hpp"
#include "cli/check_output.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "sys/text_file.hpp"

namespace cloudtime::cli {

namespace {

struct CheckArgs {
    check::VmCheckOptions options;
    check::VmThresholds thresholds;
    std::vector<std::string> config_drives;
    std::vector<std::string> lease_files;
    std::string redundancy = "advisory";
    double wait_s = 0.0;
    std::string console;  // judge a gatherer's record from this console log ("-": stdin)
    bool gatherer = false;
    int gatherer_wait_s = 300;
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

int print_verdicts(const CheckArgs& args, const check::VmFacts& facts,
                   const std::vector<check::CheckResult>& results, nlohmann::json facts_json) {
    const check::Report report{checker_name(), results, std::move(facts_json)};
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

// --console: the same rules over what a VM's gatherer printed on its console.
int judge_console(const CheckArgs& args) {
    std::string text;
    if (args.console == "-") {
        text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
        auto read = sys::read_text_file(args.console);
        if (!read) {
            fmt::print(stderr, "cloudtime check: {}: {}\n", args.console, read.error());
            return kExitUsage;
        }
        text = std::move(*read);
    }
    auto record = check::read_console_record(text);
    auto gathered =
        record ? check::facts_from_record(*record) : Expected<check::GuestFacts>(record.failure());
    if (!gathered) {
        // Nothing to judge is no verdict: the check could not be run.
        const std::vector<check::CheckResult> aborted = {
            {"console-record", "the gatherer's record on the console", check::Verdict::abort,
             args.console + ": " + gathered.error()}};
        return print_verdicts(args, check::VmFacts{}, aborted, nlohmann::json::object());
    }
    const auto results = check::evaluate_vm(gathered->facts, args.thresholds);
    auto facts_json = check::vm_facts_json(gathered->facts);
    const auto or_null = [](const std::optional<double>& v) {
        return v ? nlohmann::json(*v) : nlohmann::json();
    };
    facts_json["gatherer"] = {{"began", gathered->began},
                              {"synchronized_at", or_null(gathered->synchronized_at)},
                              {"synchronized_uptime_s", or_null(gathered->synchronized_uptime_s)},
                              {"settled_at", or_null(gathered->settled_at)}};
    return print_verdicts(args, gathered->facts, results, std::move(facts_json));
}

int run(CheckArgs& args) {
    args.thresholds.redundancy = args.redundancy == "required"   ? check::RedundancyRule::required
                                 : args.redundancy == "advisory" ? check::RedundancyRule::advisory
                                                                 : check::RedundancyRule::off;
    if (args.gatherer) {
        fmt::print("{}", check::gatherer_user_data(args.gatherer_wait_s));
        return 0;
    }
    if (!args.console.empty()) {
        return judge_console(args);
    }
    if (!args.config_drives.empty()) {
        args.options.config_drives = args.config_drives;
    }
    if (!args.lease_files.empty()) {
        args.options.lease_files = args.lease_files;
    }
    if (args.no_metadata) {
        args.options.metadata_url.clear();
    }
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
    return print_verdicts(args, facts, results, check::vm_facts_json(facts));
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
    cmd->add_option("--console", args->console,
                    "judge instead the facts a VM's gatherer printed on its console (a console "
                    "log, e.g. from `openstack console log show`; - for stdin): the same rules, "
                    "nothing measured from here")
        ->excludes("--wait");
    cmd->add_flag("--gatherer", args->gatherer,
                  "print the gatherer: a user-data script (#!/bin/sh, Python 3 inside) that "
                  "gathers these facts in a VM and prints them on its console, once its NTP "
                  "client is synchronized or --gatherer-wait seconds passed")
        ->excludes("--console");
    cmd->add_option("--gatherer-wait", args->gatherer_wait_s,
                    "seconds the gatherer waits for the VM's client to synchronize (default 300)")
        ->check(CLI::Range(0, 3600));
    auto* json = cmd->add_flag("-j,--json", args->json, "print one JSON object");
    cmd->add_flag("--scs", args->scs, "print 'scs-0129-<check>: PASS|FAIL|ABORT' lines")
        ->excludes(json);
    return [args] { return run(*args); };
}

}  // namespace cloudtime::cli
