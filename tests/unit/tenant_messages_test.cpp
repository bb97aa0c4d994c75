// SPDX-License-Identifier: Apache-2.0

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "tenant/tenant_messages.hpp"

namespace cloudtime::server {
namespace {

sys::SocketAddress address(const char* text) {
    return sys::parse_socket_address(text).value();
}

TEST(TenantMessages, OptionsCrossTheChannelUnchanged) {
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

TEST(TenantMessages, BrokenOptionsAreAnErrorNotAnException) {
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

// The helper runs as root and reads these from the unprivileged server: a number out of its
// field's range is refused, not cut to fit (port 70000 was read as 4464).
TEST(TenantMessages, NumbersOutOfRangeAreRefusedNotCut) {
    const auto with = [](const std::string& local_port, const std::string& buffer,
                         const std::string& ke_port) {
        return R"(options	{"netns_dir": "/run/netns", "patterns": [], "router_patterns": [], )"
               R"("router": {"interfaces": "qr-*", "local_port": )" +
               local_port + R"(, "destinations": []}, "receive_buffer": )" + buffer +
               R"(, "nts_ke_port": )" + ke_port + R"(, "addresses": [], "managed": []})";
    };
    ASSERT_TRUE(parse_options_message(with("10123", "4194304", "4460")));
    for (const auto& [port, buffer, ke] :
         std::vector<std::array<std::string, 3>>{{"70000", "0", "0"},
                                                 {"-1", "0", "0"},
                                                 {"1.5", "0", "0"},
                                                 {"123", "-1", "0"},
                                                 {"123", "1073741825", "0"},
                                                 {"123", "4294967296", "0"},
                                                 {"123", "0", "65536"},
                                                 {"123", "0", "true"}}) {
        EXPECT_FALSE(parse_options_message(with(port, buffer, ke)))
            << port << " " << buffer << " " << ke;
    }
}

TEST(TenantMessages, HelperMessagesReadBackAndNothingElseIsOne) {
    using Kind = HelperMessage::Kind;
    for (const HelperMessage& m : std::vector<HelperMessage>{
             {Kind::attached, "ovnmeta-1", "169.254.169.254:123"},
             {Kind::attached_ke, "ovnmeta-1", "169.254.169.254:123"},
             {Kind::released, "qdhcp-2", ""},
             {Kind::closed, "qdhcp-2", "[fe80::a9fe:a9fe%tap1]:123"},
             {Kind::waiting, "qrouter-3", "no address 169.254.169.254 yet\tand more"},
             {Kind::waiting, "qrouter-3", ""}}) {
        const std::string text = helper_message_text(m);
        EXPECT_EQ(parse_helper_message(text, carries_fd(m.kind)), m) << text;
        // A socket where none belongs, or none where one does: not what the helper sends.
        EXPECT_FALSE(parse_helper_message(text, !carries_fd(m.kind))) << text;
    }
    for (const char* text : {"", "A", "A\t", "A\tns", "X\tns\tlabel", "AA\tns\tl", "reconcile"}) {
        EXPECT_FALSE(parse_helper_message(text, true)) << text;
        EXPECT_FALSE(parse_helper_message(text, false)) << text;
    }
}

}  // namespace
}  // namespace cloudtime::server
