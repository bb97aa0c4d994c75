// SPDX-License-Identifier: Apache-2.0

#include <gtest/gtest.h>

#include "tenant/router_redirect.hpp"

namespace cloudtime::server {
namespace {

sys::SocketAddress address(const char* text) {
    return *sys::parse_socket_address(text);
}

TEST(RouterRedirect, ReplacesItsOwnTableInOneTransaction) {
    const RouterRedirect redirect{
        .destinations = {address("169.254.169.254:123"), address("169.254.169.123:123")},
        .interfaces = "qr-*",
        .local_port = 10123};
    EXPECT_EQ(router_ruleset(redirect),
              "table ip cloudtime\n"
              "delete table ip cloudtime\n"
              "table ip cloudtime {\n"
              "  chain prerouting {\n"
              "    type nat hook prerouting priority dstnat; policy accept;\n"
              "    iifname \"qr-*\" ip daddr 169.254.169.254 udp dport 123 redirect to :10123\n"
              "    iifname \"qr-*\" ip daddr 169.254.169.123 udp dport 123 redirect to :10123\n"
              "  }\n"
              "  chain input {\n"
              "    type filter hook input priority filter; policy accept;\n"
              "    udp dport 10123 ct status dnat accept\n"
              "    udp dport 10123 drop\n"
              "  }\n"
              "}\n");
}

TEST(RouterRedirect, RemovalWorksWhetherTheTableExistsOrNot) {
    EXPECT_EQ(router_ruleset_removal(), "table ip cloudtime\ndelete table ip cloudtime\n");
}

}  // namespace
}  // namespace cloudtime::server
