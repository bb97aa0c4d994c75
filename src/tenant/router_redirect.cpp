// SPDX-License-Identifier: Apache-2.0
#include "tenant/router_redirect.hpp"

#include <fmt/format.h>

namespace cloudtime::server {

namespace {
std::string declare_table() {
    return fmt::format("table ip {}\n", kRouterTable);
}
}  // namespace

std::string router_ruleset(const RouterRedirect& redirect) {
    // Declaring the table first makes the delete valid when there is none; the whole text
    // is one transaction, so no packet sees the namespace without a complete table.
    std::string text = declare_table() + fmt::format("delete table ip {}\n", kRouterTable);
    text += fmt::format("table ip {} {{\n", kRouterTable);
    text += "  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n";
    for (const auto& d : redirect.destinations) {
        text += fmt::format("    iifname \"{}\" ip daddr {} udp dport {} redirect to :{}\n",
                            redirect.interfaces, d.host_string(), d.port(), redirect.local_port);
    }
    text += "  }\n";
    text += "  chain input {\n    type filter hook input priority filter; policy accept;\n";
    text += fmt::format("    udp dport {} ct status dnat accept\n", redirect.local_port);
    text += fmt::format("    udp dport {} drop\n", redirect.local_port);
    text += "  }\n}\n";
    return text;
}

std::string router_ruleset_removal() {
    return declare_table() + fmt::format("delete table ip {}\n", kRouterTable);
}

}  // namespace cloudtime::server
