// SPDX-License-Identifier: Apache-2.0
#include "cloud/dhcp_option.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include "util/strings.hpp"

namespace cloudtime::cloud {

std::optional<DhcpBackend> parse_dhcp_backend(std::string_view text) {
    if (text == "ovn") {
        return DhcpBackend::ovn;
    }
    if (text == "ovs") {
        return DhcpBackend::ovs;
    }
    return std::nullopt;
}

Expected<DhcpSnippet> dhcp_option_snippet(DhcpBackend backend, DhcpScope scope,
                                          const std::vector<std::string>& servers) {
    DhcpSnippet out;
    std::vector<std::string> ipv4;
    for (const auto& server : servers) {
        in_addr parsed{};
        if (::inet_pton(AF_INET, server.c_str(), &parsed) == 1) {
            ipv4.push_back(server);
        } else {
            out.warnings.push_back(
                fmt::format("{} left out: DHCP option 42 carries IPv4 addresses only", server));
        }
    }
    if (ipv4.empty()) {
        return Error{"no IPv4 address among the servers: DHCP option 42 cannot name any"};
    }
    if (scope == DhcpScope::deployment && backend == DhcpBackend::ovs) {
        out.text = fmt::format(
            "# ML2/OVS: the file named by dnsmasq_config_file in dhcp_agent.ini\n"
            "dhcp-option=option:ntp-server,{}\n",
            join(ipv4, ","));
    } else {
        // Both are comma-separated lists of their own (oslo ListOpt, the client's key=value
        // pairs): one address fits.
        for (std::size_t i = 1; i < ipv4.size(); ++i) {
            out.warnings.push_back(
                fmt::format("{} left out: this setting holds one NTP server", ipv4[i]));
        }
        out.text = scope == DhcpScope::one_port
                       ? fmt::format(
                             "# per port, for each VM port PORT:\nopenstack port set "
                             "--extra-dhcp-option name=ntp-server,value={},ip-version=4 "
                             "PORT\n",
                             ipv4[0])
                       : fmt::format(
                             "# ML2/OVN: neutron.conf (or ml2_conf.ini) of every "
                             "neutron-server\n[ovn]\n"
                             "ovn_dhcp4_global_options = ntp_server:{}\n",
                             ipv4[0]);
    }
    out.warnings.emplace_back(
        std::string("IPv6-only subnets get no NTP server this way: ") +
        (backend == DhcpBackend::ovn ? "OVN's DHCPv6 has no NTP option"
                                     : "this is DHCPv4's option 42") +
        "; give them the vendordata (vendordata.servers may name fe80::a9fe:a9fe, which tenant "
        "networks serve)");
    return out;
}

}  // namespace cloudtime::cloud
