// SPDX-License-Identifier: Apache-2.0
// The keys of [tenant_networks]: NTP inside Neutron's namespaces.
#include <algorithm>

#include "config/config_keys.hpp"
#include "config/interface_pattern.hpp"

namespace cloudtime::config {

namespace {

// IP addresses, IPv6 without brackets; the port is tenant_networks.port.
Status read_ip_addresses(const KeyReading& v, std::vector<sys::SocketAddress>& out) {
    auto list = v.strings();
    if (!list) {
        return list.failure();
    }
    std::vector<sys::SocketAddress> addresses;
    for (const auto& text : *list) {
        const bool v6 = text.find(':') != std::string::npos;
        auto address = sys::parse_socket_address((v6 ? "[" + text + "]" : text) + ":0");
        if (!address) {
            return v.fail(v.name() + ": '" + text + "' is not an IP address");
        }
        addresses.push_back(*address);
    }
    out = std::move(addresses);
    return Done{};
}

Status read_router_interfaces(const KeyReading& v, std::string& out) {
    std::string pattern;
    if (auto s = v.text(pattern); !s) {
        return s;
    }
    if (auto valid = check_interface_pattern(pattern); !valid) {
        return v.fail(v.name() + ": " + valid.error());
    }
    out = std::move(pattern);
    return Done{};
}

Status check_tenant_networks(const TomlReader& reader, const toml::table& table, const Config& c) {
    const auto& tn = c.tenant_networks;
    const auto ipv4 = [](const sys::SocketAddress& a) { return !a.is_ipv6(); };
    if (!tn.router_patterns.empty() &&
        std::none_of(tn.addresses.begin(), tn.addresses.end(), ipv4) &&
        std::none_of(tn.managed_addresses.begin(), tn.managed_addresses.end(), ipv4)) {
        return reader.fail(table.source(),
                           "tenant_networks.router_patterns: routers redirect IPv4 only, and no "
                           "IPv4 address is in tenant_networks.addresses or managed_addresses");
    }
    return Done{};
}

const ConfigKey kTenantKeys[] = {
    {.name = "enabled",
     .value = "false",
     .type = KeyType::boolean,
     .reload = KeyReload::restart,
     .summary = "serve NTP inside Neutron's namespaces (needs root)",
     .doc = "follow and serve tenant namespaces (cloudtimed must run as root).",
     .read = [](const KeyReading& v, Config& c) { return v.boolean(c.tenant_networks.enabled); },
     .same =
         [](const Config& a, const Config& b) {
             return a.tenant_networks.enabled == b.tenant_networks.enabled;
         }},
    {.name = "netns_dir",
     .value = "\"/run/netns\"",
     .type = KeyType::other,
     .kind = "string: a path",
     .summary = "where `ip netns` names namespaces; followed live",
     .doc = "where `ip netns` (and Neutron) name namespaces. It may not exist yet: it is looked "
            "for every second.",
     .read = [](const KeyReading& v, Config& c) { return v.text(c.tenant_networks.netns_dir); }},
    {.name = "patterns",
     .value = "[\"ovnmeta-*\", \"qdhcp-*\"]",
     .type = KeyType::other,
     .kind = "array of name patterns (`*` any characters)",
     .summary = "ML2/OVN metadata, ML2/OVS DHCP namespaces",
     .doc = "shell patterns (fnmatch) of the namespace names to serve; others are never entered.",
     .read = [](const KeyReading& v, Config& c) { return v.strings(c.tenant_networks.patterns); }},
    {.name = "addresses",
     .value = "[\"169.254.169.254\", \"fe80::a9fe:a9fe\"]",
     .type = KeyType::other,
     .kind = "array of IP addresses",
     .summary = "served where found in a namespace",
     .doc = "the addresses served where a namespace has them; an IPv6 link-local one is bound on "
            "the interface that holds it.",
     .read = [](const KeyReading& v,
                Config& c) { return read_ip_addresses(v, c.tenant_networks.addresses); }},
    {.name = "managed_addresses",
     .value = "[]",
     .type = KeyType::other,
     .kind = "array of IP addresses",
     .summary = "added next to them, served, removed on release: [\"169.254.169.123\"]",
     .doc = "addresses cloudtimed adds itself (as /32 or /128, IPv6 without DAD) on the interface "
            "that holds one of `addresses` in each namespace, serves like them, and removes again "
            "when it releases the namespace or stops; for example `[\"169.254.169.123\"]`, AWS's "
            "NTP address. An address already present is served but never removed.",
     .read = [](const KeyReading& v,
                Config& c) { return read_ip_addresses(v, c.tenant_networks.managed_addresses); }},
    {.name = "port",
     .value = "123",
     .type = KeyType::integer,
     .lo = 1,
     .hi = 65535,
     .summary = "the UDP port served in each namespace",
     .doc = "the UDP port served on them.",
     .read = [](const KeyReading& v, Config& c) { return v.integer(c.tenant_networks.port); }},
    {.name = "router_patterns",
     .value = "[]",
     .type = KeyType::other,
     .kind = "array of name patterns",
     .summary = "ML2/OVS routers, NTP redirected by nftables: [\"qrouter-*\"]",
     .doc = "shell patterns of router namespaces (ML2/OVS `qrouter-*`) served through an nftables "
            "redirect (below). Checked before `patterns`. Needs an IPv4 address in `addresses` or "
            "`managed_addresses`.",
     .read = [](const KeyReading& v,
                Config& c) { return v.strings(c.tenant_networks.router_patterns); }},
    {.name = "router_interfaces",
     .value = "\"qr-*\"",
     .type = KeyType::other,
     .kind = "string: an interface name pattern",
     .summary = "where the tenant subnets' packets come in",
     .doc = "the interfaces, in a router namespace, where the tenant subnets' packets come in: a "
            "name, or a prefix ending in `*` (nft's `iifname` match; letters, digits, `_ . -`, at "
            "most 15 characters).",
     .read =
         [](const KeyReading& v, Config& c) {
             return read_router_interfaces(v, c.tenant_networks.router_interfaces);
         }},
    {.name = "router_port",
     .value = "10123",
     .type = KeyType::integer,
     .lo = 1,
     .hi = 65535,
     .summary = "the redirect's local port; nothing else reaches it",
     .doc = "the local UDP port the redirect ends at, inside each router namespace.",
     .read = [](const KeyReading& v,
                Config& c) { return v.integer(c.tenant_networks.router_port); }},
};

const ConfigSection kTenantSections[] = {
    {.name = "tenant_networks", .summary = "", .keys = kTenantKeys, .check = check_tenant_networks},
};

}  // namespace

std::span<const ConfigSection> tenant_sections() {
    return kTenantSections;
}

}  // namespace cloudtime::config
