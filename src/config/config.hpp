// SPDX-License-Identifier: Apache-2.0
// cloudtimed's configuration: the TOML file (DESIGN.md's config contract), validated whole
// before anything starts; every error names the file and line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cloud/time_policy.hpp"
#include "net/socket_address.hpp"
#include "proto/access_list.hpp"
#include "proto/leap_smear.hpp"
#include "proto/rate_limiter.hpp"
#include "util/expected.hpp"

namespace cloudtime::config {

// auto: chrony when its socket exists at start, else the kernel.
enum class ClockSourceKind : std::uint8_t { automatic, chrony, kernel, local };

struct Config {
    std::vector<sys::SocketAddress> listen;
    unsigned threads = 0;
    unsigned batch_size = 32;
    unsigned receive_buffer = 4U << 20U;
    bool seccomp = true;  // the serving process allows only the system calls it makes
    // Interleaved mode (RFC 9769) for clients that ask for it (chrony's xleave), with a record
    // of each reply sent: `interleaved_records` of them (24 octets each), shared by workers.
    bool interleaved = true;
    std::size_t interleaved_records = 65536;
    // Started as root: drop to this user after binding; empty: keep running as started.
    std::string user = "_cloudtime";
    // Ours at run time: the chrony client socket (where chronyd answers); owned by `user`.
    std::string runtime_directory = "/run/cloudtime";

    ClockSourceKind clock_source = ClockSourceKind::automatic;
    std::string chrony_socket = "/run/chrony/chronyd.sock";
    // chronyd's UDP command port: monitoring commands for a process that cannot write to the
    // socket (chrony makes it 0755 _chrony: only root and chrony's user can).
    std::optional<sys::SocketAddress> chrony_command_address;  // default.toml: 127.0.0.1:323
    double holdover_s = 0.0;
    double restart_grace_s = 30.0;  // hold over at least this long while the source restarts
    std::uint8_t kernel_stratum = 3;
    std::uint32_t kernel_refid = 0;
    std::uint8_t local_stratum = 10;
    std::uint32_t local_refid = 0;

    proto::LeapMode leap_mode = proto::LeapMode::pass;
    std::string leap_seconds_file = "/usr/share/zoneinfo/leap-seconds.list";
    proto::SmearPolicy smear;

    proto::RateLimitPolicy rate_limit;
    std::vector<proto::AccessRule> access_rules;
    proto::AccessAction access_default = proto::AccessAction::allow;

    struct TenantNetworks {
        bool enabled = false;
        std::string netns_dir = "/run/netns";
        std::vector<std::string> patterns;
        std::vector<sys::SocketAddress> addresses;  // validated; the port is `port`
        std::vector<sys::SocketAddress> managed_addresses;
        std::uint16_t port = 123;
        std::vector<std::string> router_patterns;  // served through an nftables redirect
        std::string router_interfaces = "qr-*";
        std::uint16_t router_port = 10123;

        friend bool operator==(const TenantNetworks&, const TenantNetworks&) = default;
    } tenant_networks;

    // The HTTP endpoint for Nova's DynamicJSON vendordata provider, and the policy that
    // `cloudtime vendordata` renders for the static channels.
    struct Vendordata {
        bool enabled = false;
        sys::SocketAddress listen;
        std::string path = "/";
        cloud::TimePolicy policy;
        std::vector<cloud::PolicyRule> rules;
        bool instance_metadata = true;  // honour cloudtime_ntp / cloudtime_ptp
        std::size_t max_body = 65536;
        std::size_t max_connections = 4096;  // the longest-waiting one is closed to make room
        std::size_t max_connections_per_client = 32;
        std::string tls_certificate;  // both set: HTTPS only
        std::string tls_key;
        std::vector<sys::Cidr> allowed_clients;  // empty: any client that can connect

        friend bool operator==(const Vendordata&, const Vendordata&) = default;
    } vendordata;

    // Network Time Security (RFC 8915): key establishment over TLS 1.3 beside each NTP
    // address, cookies sealed under master keys rotated every `rotation_s`, kept in a file.
    struct Nts {
        bool enabled = false;
        std::string certificate;  // PEM chain
        std::string private_key;  // PEM
        std::uint16_t ke_port = 4460;
        // "file": the keys of this host in key_file. "etcd": the keys of a fleet in etcd
        // (written with compare-and-swap by whoever finds a rotation due, watched by all),
        // the last set seen kept in key_file to start with when etcd cannot be reached.
        std::string key_store = "file";
        std::string key_file = "/var/lib/cloudtime/nts-keys";
        std::vector<std::string> etcd_endpoints;  // http(s)://ADDRESS:PORT
        std::string etcd_key = "/cloudtime/nts-keys";
        std::string etcd_ca;           // https: the members' CA (empty: the system's)
        std::string etcd_certificate;  // https: a client certificate, optional
        std::string etcd_private_key;
        unsigned etcd_timeout_ms = 2000;
        std::int64_t rotation_s = 86400;
        std::size_t max_connections = 1000;  // key establishments at once
        std::size_t max_connections_per_client = 16;
        unsigned ke_timeout_ms = 5000;  // from accept to the answer sent

        friend bool operator==(const Nts&, const Nts&) = default;
    } nts;

    std::string status_socket = "/run/cloudtime/status.sock";  // empty: no status socket

    // Prometheus metrics over HTTP (GET /metrics), served by a thread of the daemon.
    struct Metrics {
        bool enabled = false;
        sys::SocketAddress listen;               // from the embedded default: 127.0.0.1:9124
        std::vector<sys::Cidr> allowed_clients;  // empty: any client that can connect
        std::size_t max_tenant_series = 100;     // namespaces with series of their own

        friend bool operator==(const Metrics&, const Metrics&) = default;
    } metrics;

    std::string log_level = "info";
};

std::string_view default_config_text();

// Parses `text` over the embedded defaults; `origin` names it in errors ("FILE:LINE: ...").
Expected<Config> parse_config(std::string_view text, const std::string& origin);
inline constexpr std::size_t kConfigLimit = 16U << 20U;
// The config file's text: a regular file or a pipe, at most kConfigLimit bytes.
Expected<std::string> read_config_text(const std::string& path);
Expected<Config> load_config_file(const std::string& path);
Config default_config();

const char* clock_source_name(ClockSourceKind kind);

}  // namespace cloudtime::config
