#include "server/tenant_channel.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cloudtime::server {
namespace {

sys::SocketAddress address(const char* text) {
    return sys::parse_socket_address(text).value();
}

TEST(TenantChannel, OptionsCrossTheChannelUnchanged) {
    TenantNetworkOptions o;
    o.netns_dir = "/run/netns-test";
    o.patterns = {"ovnmeta-*", "qdhcp-*"};
    o.addresses = {address("169.254.169.254:123"), address("[fe80::a9fe:a9fe]:123")};
    o.managed = {address("169.254.169.123:123")};
    o.router_patterns = {"qrouter-*"};
    o.router = {.destinations = {address("169.254.169.254:123")},
                .interfaces = "qr-*",
                .local_port = 10124};
    o.receive_buffer = 4 << 20;
    const auto back = parse_options_message(options_message(o));
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(*back, o);
}

TEST(TenantChannel, BrokenOptionsAreAnErrorNotAnException) {
    const std::string bad_address =
        R"(options	{"netns_dir": "/run/netns", "patterns": [], "router_patterns": [], )"
        R"("router": {"interfaces": "qr-*", "local_port": 10123, "destinations": []}, )"
        R"("receive_buffer": 0, "addresses": ["not an address"], "managed": []})";
    for (const std::string& text :
         std::vector<std::string>{"reconcile", "options\t", "options\t[]", "options\t{}",
                                  R"(options	{"netns_dir": 1})", bad_address}) {
        EXPECT_FALSE(parse_options_message(text)) << text;
    }
}

}  // namespace
}  // namespace cloudtime::server
