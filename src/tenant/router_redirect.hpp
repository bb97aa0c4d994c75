// SPDX-License-Identifier: Apache-2.0
// Routed ML2/OVS networks reach the metadata IP through their router's namespace
// (qrouter-<id>), where Neutron redirects TCP 80 only. For NTP, cloudtimed adds a table of its
// own there: UDP to the metadata addresses, arriving from the tenant side (qr-*), is
// redirected to a local port where a cloudtimed socket listens; that port answers nothing
// else (a packet reaching it without the redirect, from any interface, is dropped).
// Conntrack turns the answers' source back into the metadata address.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/socket_address.hpp"
#include "util/expected.hpp"

namespace cloudtime::server {

struct RouterRedirect {
    // The IPv4 addresses VMs ask, each with the port they ask on (169.254.169.254:123).
    std::vector<sys::SocketAddress> destinations;
    std::string interfaces = "qr-*";   // an interface name, or a prefix ending in '*'
    std::uint16_t local_port = 10123;  // where the redirected packets arrive

    friend bool operator==(const RouterRedirect&, const RouterRedirect&) = default;
};

// The one table cloudtimed owns in a router namespace.
inline constexpr std::string_view kRouterTable = "cloudtime";

// nft commands that create the table or replace it whole, in one transaction (idempotent).
std::string router_ruleset(const RouterRedirect& redirect);
// nft commands that remove the table, whether it exists or not.
std::string router_ruleset_removal();

}  // namespace cloudtime::server
