// SPDX-License-Identifier: Apache-2.0
#include "proto/nts_key_set.hpp"

#include <gtest/gtest.h>

namespace cloudtime::proto {
namespace {

SivKey key_filled(std::uint8_t v) {
    SivKey k{};
    k.fill(v);
    return k;
}

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kStart = 1'700'000'000;

TEST(NtsKeySet, RotatesOncePerPeriodKeepingTwoPrevious) {
    NtsKeySet set;
    EXPECT_TRUE(rotation_due(set, kStart));
    set = rotated(set, key_filled(1), kStart);
    EXPECT_EQ(set.generation, 1U);
    EXPECT_FALSE(rotation_due(set, kStart + kDay - 1));
    EXPECT_TRUE(rotation_due(set, kStart + kDay));
    EXPECT_EQ(next_rotation(set, kStart + 10), kStart + kDay);
    for (std::uint8_t i = 2; i <= 5; ++i) {
        set = rotated(set, key_filled(i), kStart + (i - 1) * kDay);
    }
    ASSERT_EQ(set.keys.size(), kNtsKeysKept);
    EXPECT_EQ(set.keys[0].id, 5U);
    EXPECT_EQ(set.keys[0].key, key_filled(5));
    EXPECT_EQ(set.keys[2].id, 3U);
    EXPECT_EQ(set.generation, 5U);
}

TEST(NtsKeySet, PreviousKeysAcceptedForTwoPeriodsAfterRetirement) {
    NtsKeySet set = rotated({}, key_filled(1), kStart);
    set = rotated(set, key_filled(2), kStart + kDay);
    set = rotated(set, key_filled(3), kStart + 2 * kDay);
    // Key 2 retired at day 2, key 1 at day 1.
    EXPECT_EQ(keyring_at(set, kStart + 2 * kDay).size(), 3U);
    EXPECT_EQ(keyring_at(set, kStart + 3 * kDay - 1).size(), 3U);
    const CookieKeyring ring = keyring_at(set, kStart + 3 * kDay);
    EXPECT_EQ(ring.size(), 2U);
    EXPECT_EQ(ring.current().id, 3U);
    EXPECT_EQ(ring.find(1), nullptr);
    EXPECT_EQ(keyring_at(set, kStart + 4 * kDay).size(), 1U);
    // No rotation for a year (the store unreachable): the current key serves on alone.
    EXPECT_EQ(keyring_at(set, kStart + 365 * kDay).size(), 1U);
    EXPECT_EQ(keyring_at(set, kStart + 365 * kDay).current().id, 3U);
}

TEST(NtsKeySet, ClockSteppedBackKeepsTheKey) {
    const NtsKeySet set = rotated({}, key_filled(1), kStart);
    EXPECT_FALSE(rotation_due(set, kStart - 1000));
    EXPECT_EQ(keyring_at(set, kStart - 1000).size(), 1U);
}

TEST(NtsKeySet, TextFormRoundTripsAndRejectsDamage) {
    NtsKeySet set = rotated({}, key_filled(0xA5), kStart);
    set = rotated(set, key_filled(0x5A), kStart + kDay);
    const std::string text = encode_key_set(set);
    const auto back = decode_key_set(text);
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(*back, set);

    EXPECT_FALSE(decode_key_set(""));
    EXPECT_FALSE(decode_key_set("something else\n"));
    EXPECT_FALSE(decode_key_set("cloudtime-nts-keys 1\nrotation 0\ngeneration 1\n"));
    EXPECT_FALSE(decode_key_set("cloudtime-nts-keys 1\nrotation 10\n"));
    std::string short_key = text;
    short_key.replace(short_key.rfind(' ') + 1, 2, "");
    const auto damaged = decode_key_set(short_key);
    ASSERT_FALSE(damaged);
    EXPECT_NE(damaged.error().find("line "), std::string::npos);
    std::string twice = text + text.substr(text.find("key "));
    EXPECT_FALSE(decode_key_set(twice));  // the same ids again
}

// The text comes from a file or from etcd, which others write: times that would overflow
// when a period is added to them (UBSan: 9223372036854775000 + 172800 in keyring_at) are
// refused, and so is a rotation longer than a year.
TEST(NtsKeySet, TimesThatWouldOverflowAreRefused) {
    const std::string key = " " + std::string(64, '1') + "\n";
    const std::string head = "cloudtime-nts-keys 1\nrotation 86400\ngeneration 1\n";
    EXPECT_TRUE(decode_key_set(head + "key 1 253402300799" + key));
    EXPECT_FALSE(decode_key_set(head + "key 1 253402300800" + key));
    EXPECT_FALSE(decode_key_set(head + "key 1 9223372036854775000" + key));
    EXPECT_FALSE(decode_key_set(head + "key 1 -1" + key));
    EXPECT_TRUE(decode_key_set("cloudtime-nts-keys 1\nrotation 31536000\ngeneration 1\n"));
    EXPECT_FALSE(decode_key_set("cloudtime-nts-keys 1\nrotation 31536001\ngeneration 1\n"));
}

// After id 2^32 - 1 comes 0, unless a key still kept holds it: ids stay distinct, and the set
// still reads back from its text.
TEST(NtsKeySet, IdsWrapAroundWithoutCollision) {
    const std::string key = " " + std::string(64, '1') + "\n";
    const auto set = decode_key_set(
        "cloudtime-nts-keys 1\nrotation 86400\ngeneration 1\nkey 4294967295 " +
        std::to_string(kStart) + key + "key 0 " + std::to_string(kStart - kDay) + key);
    ASSERT_TRUE(set) << set.error();
    const NtsKeySet next = rotated(*set, key_filled(2), kStart + kDay);
    ASSERT_EQ(next.keys.size(), 3U);
    EXPECT_EQ(next.keys[0].id, 1U);
    const auto back = decode_key_set(encode_key_set(next));
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(*back, next);
}

}  // namespace
}  // namespace cloudtime::proto
