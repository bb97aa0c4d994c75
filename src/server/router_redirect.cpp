#include "server/router_redirect.hpp"

#include <fmt/format.h>
#include <net/if.h>

#include <algorithm>

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

Status check_interface_pattern(std::string_view pattern) {
    const std::string_view name =
        !pattern.empty() && pattern.back() == '*' ? pattern.substr(0, pattern.size() - 1) : pattern;
    if (name.empty() || name.size() >= IFNAMSIZ) {
        return Error{
            fmt::format("'{}' is not an interface name or a prefix ending in '*'", pattern)};
    }
    const bool valid = std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == '-';
    });
    if (!valid) {
        return Error{
            fmt::format("'{}': an interface name may hold letters, digits, '_', '.' "
                        "and '-' (and a final '*')",
                        pattern)};
    }
    return Done{};
}

}  // namespace cloudtime::server
