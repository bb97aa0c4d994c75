// SPDX-License-Identifier: Apache-2.0
#include "proto/packet.hpp"

#include <gtest/gtest.h>

#include <array>

namespace cloudtime::proto {
namespace {

TEST(Packet, DecodesAKnownServerReply) {
    // A mode-4 reply: LI=0 VN=4 mode 4, stratum 2, poll 6, precision -23, root delay 0.5 s,
    // root dispersion 0.25 s, refid 192.0.2.1, and four distinct timestamps.
    const std::array<std::uint8_t, kHeaderSize> wire = {
        0x24, 0x02, 0x06, 0xE9, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x40, 0x00,
        0xC0, 0x00, 0x02, 0x01, 0xE9, 0x3C, 0x6B, 0x80, 0x00, 0x00, 0x00, 0x01,
        0xE9, 0x3C, 0x6B, 0x81, 0x00, 0x00, 0x00, 0x02, 0xE9, 0x3C, 0x6B, 0x82,
        0x80, 0x00, 0x00, 0x00, 0xE9, 0x3C, 0x6B, 0x83, 0xFF, 0xFF, 0xFF, 0xFF};
    const auto h = decode_header(wire);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->leap, Leap::none);
    EXPECT_EQ(h->version, 4);
    EXPECT_EQ(h->mode, Mode::server);
    EXPECT_EQ(h->stratum, 2);
    EXPECT_EQ(h->poll, 6);
    EXPECT_EQ(h->precision, -23);
    EXPECT_DOUBLE_EQ(h->root_delay.to_seconds(), 0.5);
    EXPECT_DOUBLE_EQ(h->root_dispersion.to_seconds(), 0.25);
    EXPECT_EQ(h->refid, 0xC000'0201U);
    EXPECT_EQ(h->reference.raw, 0xE93C'6B80'0000'0001ULL);
    EXPECT_EQ(h->origin.raw, 0xE93C'6B81'0000'0002ULL);
    EXPECT_EQ(h->receive.raw, 0xE93C'6B82'8000'0000ULL);
    EXPECT_EQ(h->transmit.raw, 0xE93C'6B83'FFFF'FFFFULL);

    std::array<std::uint8_t, kHeaderSize> again{};
    encode_header(*h, again);
    EXPECT_EQ(again, wire);
}

TEST(Packet, ShortDatagramsHaveNoHeader) {
    const std::array<std::uint8_t, kHeaderSize - 1> wire{};
    EXPECT_FALSE(decode_header(wire));
}

TEST(Packet, ModeAndVersionFromFirstOctet) {
    EXPECT_EQ(mode_of(0x23), Mode::client);
    EXPECT_EQ(version_of(0x23), 4);
    EXPECT_EQ(mode_of(0x1E), Mode::control);
    EXPECT_EQ(version_of(0x1E), 3);
    EXPECT_EQ(mode_of(0xE3), Mode::client);  // LI=3 does not matter
}

}  // namespace
}  // namespace cloudtime::proto
