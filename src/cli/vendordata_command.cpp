// SPDX-License-Identifier: Apache-2.0
// `cloudtime vendordata render|config-drive|dhcp`: the static delivery channels, rendered
// from the same [vendordata] policy the daemon's endpoint serves.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "check/iso_image.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cloud/config_drive.hpp"
#include "cloud/dhcp_option.hpp"
#include "cloud/vendordata.hpp"
#include "config/config.hpp"
#include "sys/text_file.hpp"

namespace cloudtime::cli {

namespace {

struct VendordataArgs {
    std::string config;  // empty: the embedded default
    // render
    bool static_json = false;
    std::string part;  // "", "cloud-config" or "script": that part's text alone
    cloud::InstanceFacts instance;
    std::vector<std::string> metadata;  // KEY=VALUE
    // config-drive
    std::string directory;
    std::string iso;
    std::string user_data_file;
    std::string ssh_key_file;
    std::string mac;
    std::string address;  // CIDR
    std::string gateway;
    // dhcp
    std::string backend;
    bool per_port = false;
};

Expected<config::Config> load(const VendordataArgs& args) {
    if (args.config.empty()) {
        return config::default_config();
    }
    return config::load_config_file(args.config);
}

Expected<cloud::Vendordata> rendered(const VendordataArgs& args, const config::Config& config) {
    cloud::InstanceFacts instance = args.instance;
    for (const auto& pair : args.metadata) {
        const auto eq = pair.find('=');
        if (eq == std::string::npos || eq == 0) {
            return Error{"--metadata wants KEY=VALUE, not '" + pair + "'"};
        }
        instance.metadata[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
    const auto& v = config.vendordata;
    return cloud::deliver(v.policy, v.rules, v.instance_metadata, instance).vendordata;
}

int run_render(const VendordataArgs& args, const config::Config& config) {
    auto vendordata = rendered(args, config);
    if (!vendordata) {
        std::cerr << "cloudtime vendordata: " << vendordata.error() << "\n";
        return kExitUsage;
    }
    if (!args.part.empty()) {
        const std::string& text =
            args.part == "cloud-config" ? vendordata->cloud_config : vendordata->script;
        if (text.empty()) {
            std::cerr << "cloudtime vendordata: this policy renders no " << args.part << " part\n";
            return kExitUnusable;
        }
        std::cout << text;
        return kExitOk;
    }
    const auto value = args.static_json ? cloud::vendordata_document(*vendordata)
                                        : cloud::vendordata_value(*vendordata);
    if (args.static_json && value["cloud-init"].is_null()) {
        std::cerr << "cloudtime vendordata: warning: this policy opts the instance out, so the "
                     "vendordata is null; pasted into Nova's StaticJSON file it turns time "
                     "vendordata off for every instance of the cloud\n";
    }
    std::cout << value.dump(2) << "\n";
    return kExitOk;
}

Expected<std::optional<cloud::StaticIpv4>> static_network(const VendordataArgs& args) {
    if (args.address.empty()) {
        if (!args.mac.empty() || !args.gateway.empty()) {
            return Error{"--mac and --gateway need --address"};
        }
        return std::optional<cloud::StaticIpv4>{};
    }
    auto cidr = cloud::parse_ipv4_cidr(args.address);
    if (!cidr) {
        return Error{"--address: " + cidr.error()};
    }
    if (args.mac.empty()) {
        return Error{"--address needs --mac, the MAC address of the NIC it is for"};
    }
    if (auto mac = cloud::check_mac(args.mac); !mac) {
        return Error{"--mac: " + mac.error()};
    }
    if (!args.gateway.empty()) {
        if (auto gw = cloud::parse_ipv4_cidr(args.gateway); !gw || gw->second != 32) {
            return Error{"--gateway: '" + args.gateway + "' is not an IPv4 address"};
        }
    }
    return std::optional<cloud::StaticIpv4>{cloud::StaticIpv4{.mac = args.mac,
                                                              .address = cidr->first,
                                                              .prefix_length = cidr->second,
                                                              .gateway = args.gateway}};
}

int run_config_drive(const VendordataArgs& args, const config::Config& config) {
    const auto fail = [](const std::string& why) {
        std::cerr << "cloudtime vendordata config-drive: " << why << "\n";
        return kExitUnusable;
    };
    auto vendordata = rendered(args, config);
    if (!vendordata) {
        return fail(vendordata.error());
    }
    auto network = static_network(args);
    if (!network) {  // the options do not go together: a usage error
        std::cerr << "cloudtime vendordata config-drive: " << network.error() << "\n";
        return kExitUsage;
    }
    cloud::ConfigDriveInstance instance{.uuid = args.instance.instance_id,
                                        .hostname = args.instance.hostname,
                                        .project_id = args.instance.project_id,
                                        .user_data = std::nullopt,
                                        .network = *network,
                                        .public_key = std::nullopt};
    if (!args.user_data_file.empty()) {
        auto text = sys::read_text_file(args.user_data_file);
        if (!text) {
            return fail(args.user_data_file + ": " + text.error());
        }
        instance.user_data = std::move(text).value();
    }
    if (!args.ssh_key_file.empty()) {
        auto text = sys::read_text_file(args.ssh_key_file);
        if (!text) {
            return fail(args.ssh_key_file + ": " + text.error());
        }
        auto key = cloud::parse_public_key(*text);
        if (!key) {
            return fail(args.ssh_key_file + ": " + key.error());
        }
        instance.public_key = std::move(key).value();
    }
    if (auto written =
            sys::write_file_tree(args.directory, cloud::config_drive_files(instance, *vendordata));
        !written) {
        return fail(written.error());
    }
    std::cerr << "config drive tree in " << args.directory << "\n";
    if (args.iso.empty()) {
        return kExitOk;
    }
    if (auto made = sys::make_iso_image(args.directory, args.iso, cloud::kConfigDriveLabel);
        !made) {
        return fail(made.error());
    }
    std::cerr << "config drive image " << args.iso << " (label " << cloud::kConfigDriveLabel
              << ")\n";
    return kExitOk;
}

int run_dhcp(const VendordataArgs& args, const config::Config& config) {
    const auto backend = cloud::parse_dhcp_backend(args.backend);
    if (!backend) {
        std::cerr << "cloudtime vendordata dhcp: --backend must be ovn (ML2/OVN) or ovs "
                     "(ML2/OVS: the DHCP agent's dnsmasq), not '"
                  << args.backend << "'\n";
        return kExitUsage;
    }
    auto snippet = cloud::dhcp_option_snippet(
        *backend, args.per_port ? cloud::DhcpScope::one_port : cloud::DhcpScope::deployment,
        config.vendordata.policy.servers);
    if (!snippet) {
        std::cerr << "cloudtime vendordata dhcp: " << snippet.error() << "\n";
        return kExitUnusable;
    }
    std::cout << snippet->text;
    for (const auto& warning : snippet->warnings) {
        std::cerr << "warning: " << warning << "\n";
    }
    return kExitOk;
}

void add_instance_options(CLI::App& cmd, VendordataArgs& args) {
    cmd.add_option("--project-id", args.instance.project_id, "the instance's project");
    cmd.add_option("--image-id", args.instance.image_id, "the instance's image");
    cmd.add_option("--metadata", args.metadata, "instance metadata KEY=VALUE (repeatable)");
}

}  // namespace

Runner add_vendordata_command(CLI::App& app) {
    auto args = std::make_shared<VendordataArgs>();
    auto* cmd =
        app.add_subcommand("vendordata",
                           "Render the time vendordata for Nova's static provider, a config drive "
                           "or DHCP option 42 from cloudtimed's [vendordata] policy");
    cmd->add_option("-c,--config", args->config, "cloudtimed's config file (default: embedded)");
    cmd->require_subcommand(1);

    auto* render =
        cmd->add_subcommand("render", "print the vendordata (Nova's DynamicJSON answer)");
    render->add_flag("--static", args->static_json,
                     "print {\"cloud-init\": ...} for StaticJSON's vendor_data.json");
    render->add_option("--part", args->part, "print one part's text alone")
        ->check(CLI::IsMember({"cloud-config", "script"}));
    add_instance_options(*render, *args);

    auto* drive = cmd->add_subcommand("config-drive", "write a config drive tree (and image)");
    drive->add_option("directory", args->directory, "where to write openstack/latest/...")
        ->required();
    drive->add_option("--iso", args->iso, "also make the ISO 9660 image (label config-2)");
    drive->add_option("--instance-id", args->instance.instance_id, "meta_data.json uuid")
        ->default_val("00000000-0000-4000-8000-000000000001");
    drive->add_option("--hostname", args->instance.hostname, "meta_data.json hostname")
        ->default_val("cloudtime-vm");
    drive->add_option("--user-data", args->user_data_file, "a user-data file to include");
    drive->add_option("--ssh-key", args->ssh_key_file,
                      "meta_data.json public_keys: an OpenSSH public key file (.pub)");
    drive->add_option("--mac", args->mac, "network_data.json: the NIC's MAC address");
    drive->add_option("--address", args->address, "network_data.json: static IPv4 ADDR/LEN");
    drive->add_option("--gateway", args->gateway, "network_data.json: default gateway");
    add_instance_options(*drive, *args);

    auto* dhcp = cmd->add_subcommand("dhcp", "print the DHCP option 42 setting for Neutron");
    dhcp->add_option("--backend", args->backend,
                     "ovn (ML2/OVN) | ovs (ML2/OVS: the DHCP agent's dnsmasq)")
        ->required();
    dhcp->add_flag("--per-port", args->per_port,
                   "print the `openstack port set` command for one port instead");

    // `vendordata render -c FILE` as well as `vendordata -c FILE render`: what a subcommand
    // does not know goes to its parent.
    for (auto* sub : {render, drive, dhcp}) {
        sub->fallthrough();
    }
    return [args, render, drive, dhcp] {
        auto config = load(*args);
        if (!config) {
            std::cerr << "cloudtime vendordata: " << config.error() << "\n";
            return kExitConfig;
        }
        if (render->parsed()) {
            return run_render(*args, *config);
        }
        if (drive->parsed()) {
            return run_config_drive(*args, *config);
        }
        if (dhcp->parsed()) {
            return run_dhcp(*args, *config);
        }
        return kExitUsage;
    };
}

}  // namespace cloudtime::cli
