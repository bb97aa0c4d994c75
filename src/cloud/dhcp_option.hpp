// SPDX-License-Identifier: Apache-2.0
// DHCP option 42 (NTP servers, RFC 2132 8.3) for Neutron: Neutron has no subnet-level API
// for it, so it is set deployment-wide (ML2/OVN, ML2/OVS's dnsmasq) or per port.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/expected.hpp"

namespace cloudtime::cloud {

// Neutron's ML2 mechanism driver, named as the Ansible role and the guide name it: "ovn"
// (OVN's own DHCP), "ovs" (the DHCP agent's dnsmasq).
enum class DhcpBackend { ovn, ovs };
std::optional<DhcpBackend> parse_dhcp_backend(std::string_view text);
// For the whole deployment (the backend's config) or one port (its extra DHCP option).
enum class DhcpScope { deployment, one_port };

struct DhcpSnippet {
    std::string text;                   // what the operator puts in place
    std::vector<std::string> warnings;  // what it cannot carry
};

// From the vendordata servers: option 42 carries IPv4 addresses only (names and IPv6
// addresses are left out, with a warning). An error when no IPv4 address remains.
Expected<DhcpSnippet> dhcp_option_snippet(DhcpBackend backend, DhcpScope scope,
                                          const std::vector<std::string>& servers);

}  // namespace cloudtime::cloud
