// `cloudtime validate-image IMAGE`: boot an image as the cloud would and prove its clock gets
// synchronized (check/image_validation).
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include "check/image_validation.hpp"
#include "cli/check_output.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cloud/dhcp_option.hpp"
#include "config/config.hpp"
#include "util/strings.hpp"

namespace cloudtime::cli {

namespace {

struct ValidateArgs {
    check::ImageValidationOptions options;
    bool no_vendordata = false;
    bool dhcp = false;
    bool json = false;
    bool scs = false;
    bool quiet = false;
};

std::string own_directory() {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::string(".") : self.parent_path().string();
}

// The validator's facts: the boot, and the guest's own report whole.
nlohmann::json validation_facts(const check::ImageValidation& v, const std::string& image) {
    nlohmann::json out = {{"image", image},
                          {"accelerator", v.accelerator},
                          {"boot_s", v.boot_s},
                          {"reached_check", v.reached_check()},
                          {"guest_exit_code", v.guest_exit}};
    if (v.guest && *v.guest) {
        out["guest"] = check::to_json(**v.guest);
    } else if (v.guest) {
        out["guest_error"] = v.guest->error();
    }
    return out;
}

// The human table: what the guest found and how its client fared, from its report's facts.
std::vector<std::string> validation_table(const check::ImageValidation& v,
                                          const std::string& image) {
    std::vector<std::string> table{
        fmt::format("image {}: {}, {:.1f} s to the check", image, v.accelerator, v.boot_s)};
    if (!v.guest || !*v.guest) {
        return table;
    }
    const nlohmann::json& facts = (*v.guest)->facts;
    std::vector<std::string> delivered;
    for (const auto& c : facts.value("channels", nlohmann::json::array())) {
        if (c.contains("servers") && !c["servers"].empty()) {
            delivered.push_back(c.value("kind", "?") + " (" + c["servers"].dump() + ")");
        }
    }
    for (const auto& s : facts.value("servers", nlohmann::json::array())) {
        if (s.value("answered", false)) {
            table.push_back(fmt::format(
                "  server {} found by {}: offset {:.6f} s, delay {:.6f} s, jitter {:.6f} s",
                s.value("server", "?"), s["found_by"].dump(), s.value("offset_s", 0.0),
                s.value("delay_s", 0.0), s.value("jitter_s", 0.0)));
        }
    }
    const auto client = facts.value("client", nlohmann::json::object());
    table.push_back("  delivered by: " +
                    (delivered.empty() ? std::string("nothing") : join(delivered, ", ")));
    table.push_back("  guest NTP client: " + client.value("kind", std::string("none")) +
                    " (checked by " + (*v.guest)->checker + ")");
    return table;
}

int run(ValidateArgs& args) {
    auto& o = args.options;
    auto config = o.cloudtimed_config.empty() ? Expected<config::Config>(config::default_config())
                                              : config::load_config_file(o.cloudtimed_config);
    if (!config) {
        std::cerr << "cloudtime validate-image: " << config.error() << "\n";
        return kExitConfig;
    }
    const auto& vd = config->vendordata;
    if (!args.no_vendordata) {
        cloud::InstanceFacts instance;
        instance.project_id = "cloudtime-validation";
        o.vendordata =
            cloud::deliver(vd.policy, vd.rules, vd.instance_metadata, instance).vendordata;
    }
    if (args.dhcp) {
        auto snippet = cloud::dhcp_option_snippet(cloud::DhcpBackend::dnsmasq, vd.policy.servers);
        if (!snippet) {
            std::cerr << "cloudtime validate-image: --dhcp: " << snippet.error() << "\n";
            return kExitConfig;
        }
        o.dhcp_option_config = snippet->text;
    }
    if (o.bin_dir.empty()) {
        o.bin_dir = own_directory();
    }
    if (!args.quiet) {
        // A run takes minutes: where it is, on stderr (stdout holds only the report).
        const std::string name = std::filesystem::path(o.image).filename().string();
        o.progress = [name](const std::string& stage, double elapsed_s) {
            std::cerr << fmt::format("validate-image: [{:4.0f} s] {}: {}\n", elapsed_s, name,
                                     stage);
        };
    }
    auto validation = check::validate_image(o);
    if (!validation) {
        std::cerr << "cloudtime validate-image: cannot validate " << o.image << ": "
                  << validation.error() << "\n";
        return kExitNoAnswer;  // 2: could not validate
    }
    const check::Report report{checker_name(), check::evaluate_image(*validation, o.timeout_s),
                               validation_facts(*validation, o.image)};
    return print_report(report,
                        args.json  ? CheckOutput::json
                        : args.scs ? CheckOutput::scs
                                   : CheckOutput::human,
                        validation_table(*validation, o.image),
                        {"image PASSES: its clock is synchronized to the cloud's time",
                         "image FAILS", "image could not be validated"});
}

}  // namespace

Runner add_validate_image_command(CLI::App& app) {
    auto args = std::make_shared<ValidateArgs>();
    CLI::App* cmd = app.add_subcommand(
        "validate-image",
        "Boot IMAGE (qcow2 or raw; never modified) with QEMU as the cloud would: a config drive\n"
        "with the vendordata of cloudtimed's config, one NIC in a network namespace where\n"
        "cloudtimed serves 169.254.169.254; run `cloudtime check` inside and report. Needs root.\n"
        "Exit codes: 0 passes; 1 fails; 2 could not validate; 64 usage; 78 bad config.");
    cmd->add_option("image", args->options.image, "the image file")->required();
    cmd->add_option("-c,--config", args->options.cloudtimed_config,
                    "cloudtimed's config: its [vendordata] policy and its clock (default: "
                    "embedded)");
    cmd->add_flag("--no-vendordata", args->no_vendordata, "the config drive carries no vendordata");
    cmd->add_flag("--dhcp", args->dhcp,
                  "the NIC uses DHCP, and dnsmasq hands out option 42 (the vendordata servers)");
    cmd->add_option("--timeout", args->options.timeout_s, "seconds (default 600)")
        ->check(CLI::Range(30, 7200));
    cmd->add_option("--memory", args->options.memory_mb, "guest memory in MiB (default 1024)")
        ->check(CLI::Range(256, 65536));
    cmd->add_option("--work-dir", args->options.work_dir,
                    "keep the overlay, drives and logs here (default: a temporary directory)");
    cmd->add_flag("-q,--quiet", args->quiet,
                  "no progress lines on stderr (the stage the guest is at, every 30 s)");
    auto* json = cmd->add_flag("-j,--json", args->json, "print one JSON object");
    cmd->add_flag("--scs", args->scs, "print 'scs-0129-<check>: PASS|FAIL|ABORT' lines")
        ->excludes(json);
    return [args] { return run(*args); };
}

}  // namespace cloudtime::cli
