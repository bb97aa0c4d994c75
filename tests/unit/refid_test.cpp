// SPDX-License-Identifier: Apache-2.0
#include "proto/refid.hpp"

#include <gtest/gtest.h>

namespace cloudtime::proto {
namespace {

TEST(Refid, ParsesAddressesAndCodes) {
    EXPECT_EQ(parse_refid("192.0.2.1"), 0xC000'0201U);
    EXPECT_EQ(parse_refid("127.127.1.1"), 0x7F7F'0101U);
    EXPECT_EQ(parse_refid("LOCL"), 0x4C4F'434CU);
    EXPECT_EQ(parse_refid("GPS"), 0x4750'5300U);
    EXPECT_FALSE(parse_refid(""));
    EXPECT_FALSE(parse_refid("TOOLONG"));
    EXPECT_FALSE(parse_refid("256.0.0.1"));
    EXPECT_FALSE(parse_refid("1.2.3"));
    EXPECT_FALSE(parse_refid("1.2.3.4.5"));
    EXPECT_FALSE(parse_refid("1..2.3"));
    EXPECT_FALSE(parse_refid("A B"));
}

TEST(Refid, FormatsByStratum) {
    EXPECT_EQ(refid_to_string(0x4750'5300U, 1), "GPS");
    EXPECT_EQ(refid_to_string(0x5241'5445U, 0), "RATE");
    EXPECT_EQ(refid_to_string(0xC000'0201U, 2), "192.0.2.1");
    EXPECT_TRUE(is_kiss_code(0x5241'5445U));
    EXPECT_FALSE(is_kiss_code(0));
}

}  // namespace
}  // namespace cloudtime::proto
