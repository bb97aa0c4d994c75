// SPDX-License-Identifier: Apache-2.0
// `cloudtime validate-image IMAGE... | --catalogue FILE`: boot images as the cloud would and
// prove their clocks get synchronized (check/image_validation), several at once, against what
// each is expected to do (check/image_catalogue); one report, a matrix, or an HTML page.
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "check/catalogue_html.hpp"
#include "check/catalogue_report.hpp"
#include "check/guest_console.hpp"
#include "check/image_catalogue.hpp"
#include "check/image_validation.hpp"
#include "cli/check_output.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cloud/dhcp_option.hpp"
#include "cloud/instance_metadata.hpp"
#include "config/config.hpp"
#include "sys/poller.hpp"
#include "sys/signals.hpp"
#include "sys/text_file.hpp"
#include "util/strings.hpp"

namespace cloudtime::cli {

namespace {

// Nova takes at most 65535 octets of base64: 16383 groups of 3 octets.
constexpr std::size_t kUserDataLimit = 49149;
constexpr std::size_t kCatalogueLimit = 1048576;

struct ValidateArgs {
    std::vector<std::string> images;
    std::string catalogue;
    std::string config;
    std::vector<std::string> metadata;  // KEY=VALUE
    std::string user_data;
    std::string config_drive;
    bool print_user_data = false;
    bool no_vendordata = false;
    bool dhcp = false;
    int timeout_s = 600;
    int memory_mb = 1024;
    std::string work_dir;
    int parallel = 0;  // 0: one guest per two cores
    std::string report;
    bool json = false;
    bool scs = false;
    bool quiet = false;
};

std::string own_directory() {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::string(".") : self.parent_path().string();
}

// The images named on the command line, each an entry with the command line's settings.
Expected<std::vector<check::CatalogueEntry>> command_line_entries(const ValidateArgs& args) {
    check::CatalogueEntry base;
    base.config = args.config;
    base.vendordata = !args.no_vendordata;
    base.dhcp = args.dhcp;
    base.user_data = args.user_data;
    base.config_drive = args.config_drive;
    base.timeout_s = args.timeout_s;
    base.memory_mb = args.memory_mb;
    for (const auto& pair : args.metadata) {
        const auto eq = pair.find('=');
        if (eq == std::string::npos || eq == 0) {
            return Error{"--metadata " + pair + ": must be KEY=VALUE"};
        }
        base.metadata[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
    std::vector<check::CatalogueEntry> out;
    for (const auto& image : args.images) {
        check::CatalogueEntry e = base;
        e.image = image;
        const std::string stem = std::filesystem::path(image).stem().string();
        e.name = stem.empty() ? "image" : stem;
        for (int n = 2; std::any_of(out.begin(), out.end(),
                                    [&](const auto& other) { return other.name == e.name; });
             ++n) {
            e.name = stem + "-" + std::to_string(n);
        }
        // An opted-out instance is expected to come out so; any other to pass.
        e.expect = cloud::opts_out(e.metadata) ? check::ImageOutcome::opted_out
                                               : check::ImageOutcome::pass;
        out.push_back(std::move(e));
    }
    return out;
}

// The tenant's user-data file, within Nova's limit and of a type cloud-init reads.
Expected<std::string> read_tenant_user_data(const std::string& path) {
    auto text = sys::read_text_file(path, kUserDataLimit);
    if (!text) {
        return Error{path + ": " + text.error()};
    }
    if (auto type = check::user_data_type(*text); !type) {
        return Error{path + ": " + type.error()};
    }
    return text;
}

// Everything one validation needs, made before any guest boots: a bad config or a missing
// user-data file stops the run before it spends minutes.
Expected<check::ImageValidationOptions> prepare(const check::CatalogueEntry& e,
                                                const ValidateArgs& args) {
    check::ImageValidationOptions o;
    o.image = e.image;
    o.cloudtimed_config = e.config;
    o.timeout_s = e.timeout_s;
    o.memory_mb = e.memory_mb;
    o.instance_metadata = e.metadata;
    o.bin_dir = own_directory();
    auto config = e.config.empty() ? Expected<config::Config>(config::default_config())
                                   : config::load_config_file(e.config);
    if (!config) {
        return config.failure();
    }
    const auto& vd = config->vendordata;
    if (e.vendordata) {
        cloud::InstanceFacts instance;
        instance.project_id = "cloudtime-validation";
        instance.metadata = e.metadata;
        o.vendordata =
            cloud::deliver(vd.policy, vd.rules, vd.instance_metadata, instance).vendordata;
    }
    if (e.dhcp) {
        auto snippet = cloud::dhcp_option_snippet(cloud::DhcpBackend::ovs,
                                                  cloud::DhcpScope::deployment, vd.policy.servers);
        if (!snippet) {
            return Error{"dhcp: " + snippet.error()};
        }
        o.dhcp_option_config = snippet->text;
    }
    if (!e.user_data.empty()) {
        auto text = read_tenant_user_data(e.user_data);
        if (!text) {
            return text.failure();
        }
        o.tenant_user_data = std::move(text).value();
    }
    if (!e.config_drive.empty() && (!e.user_data.empty() || !e.metadata.empty())) {
        return Error{"--config-drive carries its own metadata and user-data (give neither)"};
    }
    o.config_drive = e.config_drive;
    if (!args.work_dir.empty()) {
        o.work_dir = args.work_dir + "/" + e.name;
    }
    return o;
}

// The human table of one image: what the guest found and how its client fared.
std::vector<std::string> validation_table(const check::ImageRun& run) {
    const auto& v = *run.validation;
    std::vector<std::string> table{fmt::format("image {}: {}, {:.1f} s to the check",
                                               run.entry.image, v.accelerator, v.boot_s)};
    if (!v.guest || !*v.guest) {
        return table;
    }
    for (const auto& s : (*v.guest)->facts.value("servers", nlohmann::json::array())) {
        if (s.value("answered", false)) {
            table.push_back(fmt::format(
                "  server {} found by {}: offset {:.6f} s, delay {:.6f} s, jitter {:.6f} s",
                s.value("server", "?"), s["found_by"].dump(), s.value("offset_s", 0.0),
                s.value("delay_s", 0.0), s.value("jitter_s", 0.0)));
        }
    }
    const auto summary = check::guest_summary(run);
    table.push_back("  delivered by: " + (summary.channels.empty() ? std::string("nothing")
                                                                   : join(summary.channels, ", ")));
    table.push_back("  guest NTP client: " + summary.client +
                    (summary.client_servers.empty()
                         ? ""
                         : ", following " + join(summary.client_servers, ", ")) +
                    " (checked by " + (*v.guest)->checker + ")");
    if (!summary.opted_out.empty()) {
        table.push_back("  opted out: cloudtime_ntp=off in " + summary.opted_out);
    }
    return table;
}

// Runs the validations, up to `parallel` at once (each TCG guest keeps a core busy). Ctrl-C,
// SIGTERM, SIGHUP: the running ones stop through their own teardown, no new one starts.
std::vector<check::ImageRun> run_all(const std::vector<check::CatalogueEntry>& entries,
                                     std::vector<check::ImageValidationOptions> options,
                                     int parallel, bool quiet) {
    std::vector<Expected<check::ImageValidation>> results(entries.size(),
                                                          Error{"interrupted by a signal"});
    auto signals = sys::SignalSet::block({SIGINT, SIGTERM, SIGHUP});
    std::mutex output;
    for (std::size_t i = 0; i < entries.size() && !quiet; ++i) {
        const std::string name = entries[i].name;
        options[i].progress = [&output, name](const std::string& stage, double elapsed_s) {
            const std::lock_guard lock(output);
            std::cerr << fmt::format("validate-image: [{:4.0f} s] {}: {}\n", elapsed_s, name,
                                     stage);
        };
    }
    std::atomic<std::size_t> next{0};
    const auto worker = [&] {
        for (std::size_t i = next++; i < entries.size(); i = next++) {
            if (signals && sys::wait_readable(signals->fd(), 0)) {
                return;  // interrupted: start nothing new
            }
            results[i] = check::validate_image(options[i]);
        }
    };
    std::vector<std::thread> threads;
    const auto count =
        std::min<std::size_t>(static_cast<std::size_t>(std::max(parallel, 1)), entries.size());
    for (std::size_t t = 0; t < count; ++t) {
        threads.emplace_back(worker);
    }
    for (auto& t : threads) {
        t.join();
    }
    std::vector<check::ImageRun> runs;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        runs.push_back(check::judge_image(entries[i], std::move(results[i])));
    }
    return runs;
}

Status write_report(const std::string& path, const std::vector<check::ImageRun>& runs) {
    const auto now = std::chrono::system_clock::now();
    const std::string generated = fmt::format(
        "{:%Y-%m-%d %H:%M:%S} UTC", fmt::gmtime(std::chrono::system_clock::to_time_t(now)));
    return sys::write_text_file(path, check::catalogue_html(runs, checker_name(), generated));
}

int print_single(const check::ImageRun& run, const ValidateArgs& args) {
    if (!run.validation) {
        std::cerr << "cloudtime validate-image: cannot validate " << run.entry.image << ": "
                  << run.error << "\n";
        return kExitNoAnswer;  // 2: could not validate
    }
    const check::Report report{checker_name(), run.checks,
                               check::validation_facts(*run.validation, run.entry.image)};
    const bool opted_out = run.outcome == check::ImageOutcome::opted_out;
    return print_report(report,
                        args.json  ? CheckOutput::json
                        : args.scs ? CheckOutput::scs
                                   : CheckOutput::human,
                        validation_table(run),
                        {opted_out ? "image opted out of the cloud's time (cloudtime_ntp=off): "
                                     "nothing the cloud still provides failed"
                                   : "image PASSES: its clock is synchronized to the cloud's time",
                         "image FAILS", "image could not be validated"});
}

int print_catalogue(const std::vector<check::ImageRun>& runs, const ValidateArgs& args) {
    if (args.json) {
        std::cout << check::catalogue_json(runs, checker_name()).dump(2) << "\n";
    } else {
        const auto lines = args.scs ? check::catalogue_scs_lines(runs) : check::matrix_lines(runs);
        for (const auto& line : lines) {
            std::cout << line << "\n";
        }
    }
    return check::catalogue_exit_code(runs);
}

// The user-data the validator gives (with the tenant's), for a config drive made elsewhere.
int print_user_data(const ValidateArgs& args) {
    std::string tenant;
    if (!args.user_data.empty()) {
        auto text = read_tenant_user_data(args.user_data);
        if (!text) {
            std::cerr << "cloudtime validate-image: " << text.error() << "\n";
            return kExitConfig;
        }
        tenant = std::move(text).value();
    }
    std::cout << check::validator_user_data(tenant);
    return kExitOk;
}

int run(const ValidateArgs& args) {
    if (args.print_user_data) {
        return print_user_data(args);
    }
    if (args.images.empty() == args.catalogue.empty()) {
        std::cerr << "cloudtime validate-image: give images or --catalogue FILE (one of them)\n";
        return kExitUsage;
    }
    auto entries = Expected<std::vector<check::CatalogueEntry>>(Error{""});
    if (!args.catalogue.empty()) {
        auto text = sys::read_text_file(args.catalogue, kCatalogueLimit);
        if (!text) {
            std::cerr << "cloudtime validate-image: " << args.catalogue << ": " << text.error()
                      << "\n";
            return kExitConfig;
        }
        const std::string directory =
            std::filesystem::absolute(args.catalogue).parent_path().string();
        entries = check::parse_catalogue(*text, args.catalogue, directory);
        if (entries && !args.config.empty()) {
            for (auto& e : *entries) {
                e.config = e.config.empty() ? args.config : e.config;
            }
        }
    } else {
        entries = command_line_entries(args);
        if (!entries) {  // the options themselves: a usage error
            std::cerr << "cloudtime validate-image: " << entries.error() << "\n";
            return kExitUsage;
        }
    }
    if (!entries) {
        std::cerr << "cloudtime validate-image: " << entries.error() << "\n";
        return kExitConfig;
    }
    std::vector<check::ImageValidationOptions> options;
    const auto kvm = std::make_shared<check::KvmFinding>();
    for (const auto& e : *entries) {
        auto o = prepare(e, args);
        if (!o) {
            std::cerr << "cloudtime validate-image: " << e.name << ": " << o.error() << "\n";
            return kExitConfig;
        }
        o->kvm = kvm;
        options.push_back(std::move(o).value());
    }
    const int parallel =
        args.parallel > 0 ? args.parallel
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency() / 2));
    const auto runs = run_all(*entries, std::move(options), parallel, args.quiet);
    if (!args.report.empty()) {
        if (auto s = write_report(args.report, runs); !s) {
            std::cerr << "cloudtime validate-image: --report " << args.report << ": " << s.error()
                      << "\n";
            return kExitNoAnswer;
        }
    }
    const bool single = args.catalogue.empty() && runs.size() == 1;
    return single ? print_single(runs.front(), args) : print_catalogue(runs, args);
}

}  // namespace

Runner add_validate_image_command(CLI::App& app) {
    auto args = std::make_shared<ValidateArgs>();
    CLI::App* cmd = app.add_subcommand(
        "validate-image",
        "Boot each IMAGE (qcow2 or raw; never modified) with QEMU as the cloud would: a config\n"
        "drive with the vendordata of cloudtimed's config, one NIC in a network namespace where\n"
        "cloudtimed serves 169.254.169.254; run `cloudtime-vm check` inside and report. With\n"
        "several images or --catalogue: one matrix (images x checks), each image against its\n"
        "expected outcome. Needs root.\n"
        "Exit codes: 0 passes (every image as expected); 1 fails (an image not as expected);\n"
        "2 could not validate; 64 usage; 78 bad config or catalogue.");
    cmd->add_option("images", args->images, "image files");
    cmd->add_option("--catalogue", args->catalogue,
                    "a TOML file of images, each with its setup and expected outcome (see "
                    "cloudtime(1))");
    cmd->add_option("-c,--config", args->config,
                    "cloudtimed's config: its [vendordata] policy and its clock (default: "
                    "embedded; a catalogue entry's own config wins)");
    cmd->add_flag("--no-vendordata", args->no_vendordata, "the config drive carries no vendordata");
    cmd->add_flag("--dhcp", args->dhcp,
                  "the NIC uses DHCP, and dnsmasq hands out option 42 (the vendordata servers)");
    // One value per --metadata, so that the images after it stay images.
    cmd->add_option("--metadata", args->metadata,
                    "KEY=VALUE of the instance's metadata (e.g. cloudtime_ntp=off), repeatable")
        ->allow_extra_args(false);
    cmd->add_option("--user-data", args->user_data,
                    "the tenant's own user-data file, given beside the validator's");
    cmd->add_option("--config-drive", args->config_drive,
                    "give this config drive (made by Nova, say) as it is: it must carry the "
                    "user-data of --print-user-data and configure the NIC " +
                        std::string(check::kValidatorMac) +
                        " (169.254.100.10/16, or DHCP with --dhcp)");
    cmd->add_flag("--print-user-data", args->print_user_data,
                  "print the user-data the validator gives the guest (with --user-data's) and "
                  "exit");
    cmd->add_option("--timeout", args->timeout_s, "seconds per image (default 600)")
        ->check(CLI::Range(30, 7200));
    cmd->add_option("--memory", args->memory_mb, "guest memory in MiB (default 1024)")
        ->check(CLI::Range(256, 65536));
    cmd->add_option("--parallel", args->parallel,
                    "guests at once (default: one per two cores; each TCG guest takes a core)")
        ->check(CLI::Range(1, 64));
    cmd->add_option("--work-dir", args->work_dir,
                    "keep each image's overlay, drives and logs in DIR/NAME (default: temporary)");
    cmd->add_option("--report", args->report,
                    "also write one self-contained HTML page: the matrix, per image its boot, "
                    "channel, client and offset plot");
    cmd->add_flag("-q,--quiet", args->quiet,
                  "no progress lines on stderr (the stage each guest is at, every 30 s)");
    auto* json = cmd->add_flag("-j,--json", args->json, "print one JSON object");
    cmd->add_flag("--scs", args->scs, "print 'scs-0129-<check>: PASS|FAIL|ABORT' lines")
        ->excludes(json);
    return [args] { return run(*args); };
}

}  // namespace cloudtime::cli
