// SPDX-License-Identifier: Apache-2.0
#include "proto/extension_fields.hpp"

#include <gtest/gtest.h>

#include "test_packets.hpp"

namespace cloudtime::proto {
namespace {

std::vector<std::uint8_t> trailer_of(const std::vector<std::uint8_t>& packet) {
    return {packet.begin() + kHeaderSize, packet.end()};
}

TEST(ExtensionFields, EmptyTrailerIsValid) {
    const auto s = scan_trailer({});
    EXPECT_EQ(s.error, ExtensionError::none);
    EXPECT_EQ(s.field_count, 0U);
}

TEST(ExtensionFields, YieldsFieldsInOrder) {
    auto p = test::client_request();
    test::append_field(p, 0x0104, 36);   // NTS unique identifier
    test::append_field(p, 0x0204, 104);  // NTS cookie
    const auto t = trailer_of(p);
    ExtensionCursor cursor(t);
    auto f1 = cursor.next();
    ASSERT_TRUE(f1);
    EXPECT_EQ(f1->type, 0x0104);
    EXPECT_EQ(f1->value.size(), 32U);
    auto f2 = cursor.next();
    ASSERT_TRUE(f2);
    EXPECT_EQ(f2->type, 0x0204);
    EXPECT_EQ(f2->value.size(), 100U);
    EXPECT_FALSE(cursor.next());
    EXPECT_EQ(cursor.error(), ExtensionError::none);
}

TEST(ExtensionFields, LengthBelowSixteenIsRejected) {
    auto p = test::client_request();
    test::append_field(p, 0x0104, 12);
    test::append_field(p, 0x0104, 32);
    EXPECT_EQ(scan_trailer(trailer_of(p)).error, ExtensionError::bad_length);
}

TEST(ExtensionFields, LengthNotMultipleOfFourIsRejected) {
    auto p = test::client_request();
    test::append_field(p, 0x0104, 30);
    p.resize(p.size() + 2, 0);  // declared 30, padded to 32 on the wire
    EXPECT_EQ(scan_trailer(trailer_of(p)).error, ExtensionError::bad_length);
}

TEST(ExtensionFields, LengthBeyondPacketIsRejected) {
    auto p = test::client_request();
    test::append_field(p, 0x0104, 64);
    p.resize(p.size() - 8);
    EXPECT_EQ(scan_trailer(trailer_of(p)).error, ExtensionError::truncated);
}

TEST(ExtensionFields, ZeroLengthIsRejected) {
    auto p = test::client_request();
    test::append_field(p, 0x0104, 32);
    proto::store_u16(std::span(p).subspan(kHeaderSize + 2, 2), 0);
    EXPECT_EQ(scan_trailer(trailer_of(p)).error, ExtensionError::bad_length);
}

TEST(ExtensionFields, LastFieldShorterThan28IsRejected) {
    // 16 octets could be a field, but not a last one without a MAC (RFC 7822 section 7.5).
    auto p = test::client_request();
    test::append_field(p, 0x0104, 16);
    EXPECT_EQ(scan_trailer(trailer_of(p)).error, ExtensionError::last_field_too_short);
}

TEST(ExtensionFields, ShortFieldFollowedByLongOneIsFine) {
    auto p = test::client_request();
    test::append_field(p, 0x2005, 16);
    test::append_field(p, 0x2005, 28);
    const auto s = scan_trailer(trailer_of(p));
    EXPECT_EQ(s.error, ExtensionError::none);
    EXPECT_EQ(s.field_count, 2U);
}

TEST(ExtensionFields, TwentyAndTwentyFourOctetTrailersAreMacs) {
    for (std::size_t mac : {20U, 24U}) {
        auto p = test::client_request();
        p.resize(p.size() + mac, 0x11);
        const auto s = scan_trailer(trailer_of(p));
        EXPECT_EQ(s.error, ExtensionError::none) << mac;
        EXPECT_EQ(s.mac_length, mac);
        EXPECT_EQ(s.field_count, 0U);
    }
}

TEST(ExtensionFields, FieldThenMac) {
    auto p = test::client_request();
    test::append_field(p, 0x2005, 16);
    p.resize(p.size() + 20, 0x11);
    const auto s = scan_trailer(trailer_of(p));
    EXPECT_EQ(s.error, ExtensionError::none);
    EXPECT_EQ(s.field_count, 1U);
    EXPECT_EQ(s.mac_length, 20U);
}

TEST(ExtensionFields, OddTrailersAreTruncated) {
    for (std::size_t extra : {1U, 2U, 3U, 5U, 13U}) {
        auto p = test::client_request();
        p.resize(p.size() + extra, 0);
        EXPECT_NE(scan_trailer(trailer_of(p)).error, ExtensionError::none) << extra;
    }
}

}  // namespace
}  // namespace cloudtime::proto
