// SPDX-License-Identifier: Apache-2.0

#include <gtest/gtest.h>

#include "net/socket_address.hpp"

namespace cloudtime::sys {
namespace {

TEST(SocketAddress, ParsesIpv4AndIpv6) {
    auto a = parse_socket_address("127.0.0.1:11123");
    ASSERT_TRUE(a) << a.error();
    EXPECT_FALSE(a->is_ipv6());
    EXPECT_EQ(a->port(), 11123);
    EXPECT_EQ(a->to_string(), "127.0.0.1:11123");
    EXPECT_TRUE(a->is_loopback());

    auto b = parse_socket_address("[::1]:123");
    ASSERT_TRUE(b) << b.error();
    EXPECT_TRUE(b->is_ipv6());
    EXPECT_EQ(b->to_string(), "[::1]:123");

    auto w = parse_socket_address("[::]:123");
    ASSERT_TRUE(w);
    EXPECT_TRUE(w->is_wildcard());
}

TEST(SocketAddress, RejectsWhatIsNotAddrPort) {
    for (const char* bad :
         {"", "127.0.0.1", "::1", "[::1]", "127.0.0.1:", "127.0.0.1:70000", "127.0.0.1:12x",
          "localhost:123", "[::1:123", "[::1]123", "999.1.1.1:1", "[fe80::1%nosuchif0]:123"}) {
        EXPECT_FALSE(parse_socket_address(bad)) << bad;
    }
}

TEST(SocketAddress, DefaultPortForClients) {
    auto a = parse_socket_address("::1", 123);
    ASSERT_TRUE(a) << a.error();
    EXPECT_EQ(a->port(), 123);
    auto b = parse_socket_address("10.0.0.1", 123);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->to_string(), "10.0.0.1:123");
}

TEST(SocketAddress, ScopedLinkLocal) {
    auto a = parse_socket_address("[fe80::a9fe:a9fe%lo]:123");
    ASSERT_TRUE(a) << a.error();
    EXPECT_EQ(a->to_string(), "[fe80::a9fe:a9fe%lo]:123");
}

TEST(HostPort, Splits) {
    auto a = split_host_port("time.example.org:1234", 123);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->host, "time.example.org");
    EXPECT_EQ(a->port, 1234);
    auto b = split_host_port("time.example.org", 123);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->port, 123);
    auto c = split_host_port("2001:db8::1", 123);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->host, "2001:db8::1");
    auto d = split_host_port("[2001:db8::1]:5", 123);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->host, "2001:db8::1");
    EXPECT_EQ(d->port, 5);
    EXPECT_FALSE(split_host_port("host:0x10", 123));
    EXPECT_FALSE(split_host_port("", 123));
}

}  // namespace
}  // namespace cloudtime::sys
