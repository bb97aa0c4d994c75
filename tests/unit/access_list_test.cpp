// SPDX-License-Identifier: Apache-2.0

#include <gtest/gtest.h>

#include <random>

#include "net/socket_address.hpp"
#include "proto/access_list.hpp"

namespace cloudtime::proto {
namespace {

AccessRule rule(const char* cidr, AccessAction action) {
    const auto parsed = sys::parse_cidr(cidr);
    EXPECT_TRUE(parsed) << cidr;
    return {parsed->octets, parsed->length, action};
}

Address16 address(const char* text) {
    auto a = sys::parse_socket_address(text, 123);
    EXPECT_TRUE(a) << text;
    return a->mapped_octets();
}

TEST(AccessList, LongestPrefixWins) {
    const AccessList list(
        {rule("10.0.0.0/8", AccessAction::ignore), rule("10.1.0.0/16", AccessAction::allow),
         rule("10.1.2.0/24", AccessAction::deny)},
        AccessAction::allow);
    EXPECT_EQ(list.check(address("10.9.9.9")), AccessAction::ignore);
    EXPECT_EQ(list.check(address("10.1.9.9")), AccessAction::allow);
    EXPECT_EQ(list.check(address("10.1.2.3")), AccessAction::deny);
    EXPECT_EQ(list.check(address("192.0.2.1")), AccessAction::allow);
}

TEST(AccessList, DefaultAndIpv6) {
    const AccessList list(
        {rule("fd00::/8", AccessAction::allow), rule("127.0.0.1", AccessAction::allow)},
        AccessAction::ignore);
    EXPECT_EQ(list.check(address("fd12:3456::1")), AccessAction::allow);
    EXPECT_EQ(list.check(address("2001:db8::1")), AccessAction::ignore);
    EXPECT_EQ(list.check(address("127.0.0.1")), AccessAction::allow);
    EXPECT_EQ(list.check(address("127.0.0.2")), AccessAction::ignore);
    EXPECT_FALSE(list.empty());
    EXPECT_TRUE(AccessList().empty());
}

TEST(AccessList, Ipv4MappedIpv6SourcesMatchIpv4Rules) {
    const AccessList list({rule("192.0.2.0/24", AccessAction::ignore)}, AccessAction::allow);
    EXPECT_EQ(list.check(address("::ffff:192.0.2.7")), AccessAction::ignore);
}

TEST(AccessList, ZeroLengthMatchesEverythingOfItsFamily) {
    const AccessList v4({rule("0.0.0.0/0", AccessAction::deny)}, AccessAction::allow);
    EXPECT_EQ(v4.check(address("203.0.113.9")), AccessAction::deny);
    EXPECT_EQ(v4.check(address("2001:db8::1")), AccessAction::allow);
    const AccessList all({rule("::/0", AccessAction::ignore)}, AccessAction::allow);
    EXPECT_EQ(all.check(address("2001:db8::1")), AccessAction::ignore);
}

// The tables must decide exactly as the rule "the longest matching prefix, the first listed
// among equals" read literally, over many random rules and sources.
TEST(AccessList, AgreesWithALinearLongestPrefixScan) {
    std::mt19937 random(14);
    std::vector<AccessRule> rules;
    const auto random_address = [&] {
        Address16 a{};
        for (auto& octet : a) {
            octet = static_cast<std::uint8_t>(random() % 4);  // few values: many overlaps
        }
        return a;
    };
    for (int i = 0; i < 2000; ++i) {
        rules.push_back({random_address(), static_cast<std::uint8_t>(random() % 129),
                         static_cast<AccessAction>(random() % 3)});
    }
    const AccessList list(rules, AccessAction::ignore);
    const auto linear = [&](const Address16& source) {
        const AccessRule* best = nullptr;
        for (const AccessRule& r : rules) {
            if (prefix_contains(r.prefix, r.length, source) &&
                (best == nullptr || r.length > best->length)) {
                best = &r;
            }
        }
        return best ? best->action : AccessAction::ignore;
    };
    for (int i = 0; i < 20000; ++i) {
        const Address16 source = random_address();
        ASSERT_EQ(list.check(source), linear(source)) << i;
    }
}

TEST(AccessList, MaskedPrefix) {
    EXPECT_EQ(masked_prefix(address("10.1.2.3"), 96 + 8), address("10.0.0.0"));
    EXPECT_EQ(masked_prefix(address("10.255.2.3"), 96 + 12), address("10.240.0.0"));
    EXPECT_EQ(masked_prefix(address("10.1.2.3"), 128), address("10.1.2.3"));
    EXPECT_EQ(masked_prefix(address("10.1.2.3"), 0), Address16{});
}

TEST(Cidr, Parses) {
    auto a = sys::parse_cidr("10.0.0.0/8");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->length, 104);
    auto b = sys::parse_cidr("fd00::/8");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->length, 8);
    auto c = sys::parse_cidr("192.0.2.1");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->length, 128);
    for (const char* bad :
         {"10.0.0.1/8", "10.0.0.0/33", "fd00::/129", "nonsense/8", "10.0.0.0/", "10.0.0.0/x", ""}) {
        EXPECT_FALSE(sys::parse_cidr(bad)) << bad;
    }
    EXPECT_NE(sys::parse_cidr("10.0.0.1/8").error().find("bits set beyond the prefix"),
              std::string::npos);
}

}  // namespace
}  // namespace cloudtime::proto
