// SPDX-License-Identifier: Apache-2.0
#include "check/vm_discovery.hpp"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "check/channel_texts.hpp"
#include "check/lease_files.hpp"
#include "cloud/instance_metadata.hpp"
#include "cloud/vendordata_servers.hpp"
#include "http/http_get.hpp"
#include "net/interfaces.hpp"
#include "net/resolve.hpp"
#include "peers/chrony_control.hpp"
#include "sys/paths.hpp"
#include "sys/process.hpp"
#include "sys/text_file.hpp"
#include "util/strings.hpp"

namespace cloudtime::check {

namespace {
constexpr int kChronyTimeoutMs = 1000;
constexpr std::uint16_t kNtpPort = 123;

// "http://host[:port]/path/" -> the client's "http://host[:port]" and "/path/".
std::pair<std::string, std::string> split_url(const std::string& url) {
    const auto scheme = url.find("://");
    const auto path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    if (path == std::string::npos) {
        return {url, "/"};
    }
    return {url.substr(0, path), url.substr(path)};
}

void metadata_channels(const VmCheckOptions& o, VmFacts& f) {
    if (o.metadata_url.empty()) {
        return;
    }
    auto [base, path] = split_url(o.metadata_url);
    if (path.back() != '/') {
        path += '/';
    }
    for (const char* file : {"vendor_data2.json", "vendor_data.json"}) {
        Channel c{"metadata", base + path + file, Error{""}};
        const auto response = sys::http_get(c.source, o.metadata_timeout_s);
        if (!response) {
            // One entry says it: the other file is behind the same silent service.
            c.source = base;
            c.servers =
                Error{"the metadata service at " + base + " does not answer: " + response.error(),
                      response.error_code()};
            f.channels.push_back(c);
            return;
        }
        if (response->status != 200) {
            c.servers = Error{"HTTP " + std::to_string(response->status)};
        } else {
            c.servers = servers_in_vendordata_text(response->body, c.source, f);
        }
        f.channels.push_back(c);
    }
    const auto meta = sys::http_get(base + path + "meta_data.json", o.metadata_timeout_s);
    if (meta && meta->status == 200 && meta_data_opts_out(meta->body)) {
        f.opted_out = base + path + "meta_data.json";
    }
}

void read_config_drive(const std::string& dir, const std::string& label, VmFacts& f) {
    const std::string latest = dir + "/openstack/latest/";
    for (const char* file : {"vendor_data2.json", "vendor_data.json"}) {
        Channel c{"config-drive", label + "/openstack/latest/" + file, Error{""}};
        auto text = sys::read_text_file(latest + file);
        c.servers = text ? servers_in_vendordata_text(*text, c.source, f)
                         : Expected<std::vector<std::string>>(text.failure());
        f.channels.push_back(c);
    }
    if (auto meta = sys::read_text_file(latest + "meta_data.json");
        meta && meta_data_opts_out(*meta) && f.opted_out.empty()) {
        f.opted_out = label + "/openstack/latest/meta_data.json";
    }
}

void config_drive_channels(const VmCheckOptions& o, VmFacts& f) {
    for (const auto& dir : o.config_drives) {
        std::error_code ec;
        if (std::filesystem::is_directory(dir + "/openstack/latest/", ec)) {
            read_config_drive(dir, dir, f);
            return;
        }
    }
    std::error_code ec;
    if (!std::filesystem::exists(o.config_drive_device, ec)) {
        f.channels.push_back(
            {"config-drive", join(o.config_drives, ", "), Error{"no config drive"}});
        return;
    }
    // Mountable but not mounted (cloud-init mounts it only while it reads it): as root, mount
    // it read-only for a moment.
    if (!sys::running_as_root()) {
        f.channels.push_back({"config-drive", o.config_drive_device,
                              Error{"present but not mounted, and mounting needs root (or "
                                    "mount it and pass --config-drive DIR)"}});
        return;
    }
    auto mountpoint_dir = sys::TemporaryDirectory::create("/tmp/cloudtime-config-2.");
    if (!mountpoint_dir) {
        f.channels.push_back({"config-drive", o.config_drive_device, mountpoint_dir.failure()});
        return;
    }
    const std::string& mountpoint = mountpoint_dir->path();
    auto mounted = sys::run_program({"mount", "-o", "ro", o.config_drive_device, mountpoint});
    if (mounted && mounted->exit_code == 0) {
        read_config_drive(mountpoint, o.config_drive_device, f);
        (void)sys::run_program({"umount", mountpoint});
    } else {
        f.channels.push_back(
            {"config-drive", o.config_drive_device,
             Error{"cannot mount it: " + (mounted ? mounted->output : mounted.error())}});
    }
}

void dhcp_channels(const VmCheckOptions& o, VmFacts& f) {
    bool any = false;
    for (const auto& pattern : o.lease_files) {
        for (const auto& file : sys::glob_files(pattern)) {
            auto text = sys::read_text_file(file);
            if (!text) {
                f.channels.push_back({"dhcp", file, text.failure()});
                continue;
            }
            any = true;
            f.channels.push_back({"dhcp", file, ntp_servers_in_lease(*text)});
        }
    }
    if (!any) {
        f.channels.push_back({"dhcp", join(o.lease_files, " "), Error{"no lease file"}});
    }
}

Expected<client::QueryResult> measure(const std::string& server,
                                      const client::QueryOptions& options) {
    auto addresses = sys::resolve_udp(server, kNtpPort);
    if (!addresses) {
        return addresses.failure();
    }
    if (addresses->empty()) {
        return Error{server + ": no address"};
    }
    return client::query_server(addresses->front(), options);
}

void measure_servers(const VmCheckOptions& o, VmFacts& f) {
    add_channel_servers(f);
    // Link-local addresses: probed with one request; an IPv6 one on every interface.
    const client::QueryOptions probe{
        .samples = 1, .interval_s = 0.0, .timeout_s = o.probe_timeout_s};
    for (const auto& address : o.link_local) {
        std::vector<std::string> candidates = {address};
        if (address.find(':') != std::string::npos && address.find('%') == std::string::npos) {
            candidates.clear();
            for (const auto& name : sys::interface_names()) {
                candidates.push_back(address + "%" + name);
            }
        }
        for (const auto& candidate : candidates) {
            const bool known = std::any_of(f.servers.begin(), f.servers.end(),
                                           [&](const auto& s) { return s.server == candidate; });
            if (known) {
                add_server(f, candidate, "link-local");
                continue;
            }
            auto result = measure(candidate, probe);
            const bool replied = result && ((result->summary && !result->rejection) ||
                                            client::rate_limited(*result));
            if (replied) {
                add_server(f, candidate, "link-local");
            }
        }
    }
    // The server chronyd follows is measured by chronyd every poll: one answer says it is
    // there, and keeps this check within the server's rate limit (the VM's chronyd spends the
    // same source's rate). Up to 3 tries, stopping at the first answer: a limiter that drops
    // some requests silently still answers one of three (or says RATE) nearly always.
    const auto followed = chrony_followed_server(f.client);
    const client::QueryOptions followed_probe{
        .samples = 3, .interval_s = 0.25, .timeout_s = 0.5, .until_first_answer = true};
    for (auto& s : f.servers) {
        const bool chrony_measures = followed && without_scope(s.server) == followed->address;
        s.result = measure(s.server, chrony_measures ? followed_probe : o.measurement);
    }
}

void ptp_clocks(const VmCheckOptions& o, VmFacts& f) {
    auto clocks = sys::list_ptp_clocks(o.ptp_sysfs, o.dev_dir);
    if (!clocks) {
        f.ptp = clocks.failure();
        return;
    }
    std::vector<PtpClock> out;
    for (const auto& info : *clocks) {
        out.push_back({info, sys::read_phc_offset(info.device)});
    }
    f.ptp = std::move(out);
}

std::vector<std::string> timesyncd_servers(const VmCheckOptions& o) {
    std::vector<std::string> texts;
    for (const auto& pattern : o.timesyncd_configs) {
        for (const auto& file : sys::glob_files(pattern)) {
            auto text = sys::read_text_file(file);
            texts.push_back(text ? *text : std::string());
        }
    }
    return timesyncd_servers_in(texts);
}

void ntp_client(const VmCheckOptions& o, VmFacts& f) {
    ClientFacts& c = f.client;
    c.chrony_socket = o.chrony_socket;
    std::error_code ec;
    const bool running = sys::process_running("chronyd");
    if (std::filesystem::exists(o.chrony_socket, ec) || running) {
        c.kind = ClientKind::chrony;
        c.chrony_socket_left = !running;
        if (c.chrony_socket_left) {  // from a chronyd that ended: nobody to ask
            c.chrony = Error{"chronyd is not running"};
            c.chrony_sources = Error{"chronyd is not running"};
            return;
        }
        sys::ChronyControl chrony(o.chrony_socket);
        c.chrony = chrony.tracking(kChronyTimeoutMs);
        c.chrony_sources = chrony.sources(kChronyTimeoutMs);
        if (const auto followed = chrony_followed_server(c)) {
            c.chrony_auth = chrony.auth_data(followed->source, kChronyTimeoutMs);
        }
        return;
    }
    if (sys::process_running("systemd-timesyncd")) {
        c.kind = ClientKind::timesyncd;
        c.timesyncd_synchronized = std::filesystem::exists(o.timesyncd_flag, ec);
        c.timesyncd_servers = timesyncd_servers(o);
    }
}
// "/usr/bin/cloud-init 20.4.1" -> "20.4.1"; "" without cloud-init.
std::string cloud_init_version(const VmCheckOptions& o) {
    const auto result = sys::run_program({o.cloud_init, "--version"});
    if (!result || result->exit_code != 0) {
        return "";
    }
    std::istringstream words(result->output);
    std::string last;
    for (std::string w; words >> w;) {
        last = w;
    }
    return last;
}
}  // namespace

VmFacts gather_vm_facts(const VmCheckOptions& options) {
    VmFacts facts;
    facts.cloud_init_version = cloud_init_version(options);
    metadata_channels(options, facts);
    config_drive_channels(options, facts);
    dhcp_channels(options, facts);
    ptp_clocks(options, facts);
    ntp_client(options, facts);
    measure_servers(options, facts);
    return facts;
}

}  // namespace cloudtime::check
