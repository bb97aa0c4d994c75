// SPDX-License-Identifier: Apache-2.0
#include "proto/leap_seconds.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace cloudtime::proto {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

// The tail of IERS's list, hashed as the file format says: SHA-1 over the digits of the #$, #@
// and data lines, python3 -c "import hashlib; print(hashlib.sha1(b'3960835200' b'3991593600'
// b'364469760036' b'369221760037').hexdigest())".
const std::string kList =
    "# a comment\n"
    "#$\t3960835200\n"
    "#@\t3991593600\n"
    "#\n"
    "3644697600\t36\t# 1 Jul 2015\n"
    "3692217600\t37\t# 1 Jan 2017\n"
    "#h\tae85f6f9 da6aaf74 c8eb0544 5e2ec81d ef95e0a4\n";

TEST(LeapSeconds, ParsesEntriesExpiryAndHash) {
    auto s = parse_leap_seconds(kList);
    ASSERT_TRUE(s) << s.error();
    ASSERT_EQ(s->entries.size(), 2U);
    EXPECT_EQ(s->entries[1].from.ns, 1'483'228'800 * kSecond);  // 2017-01-01T00:00:00Z
    EXPECT_EQ(s->entries[1].tai_offset, 37);
    EXPECT_EQ(s->expires.ns, 1'782'604'800 * kSecond);  // 2026-06-28
    EXPECT_FALSE(s->expired_at(UnixTime{1'782'604'799 * kSecond}));
    EXPECT_TRUE(s->expired_at(UnixTime{1'782'604'800 * kSecond}));
}

TEST(LeapSeconds, NextLeapAndItsDirection) {
    auto s = parse_leap_seconds(kList).value();
    const auto next = next_leap(s, UnixTime{1'480'000'000 * kSecond});
    ASSERT_TRUE(next);
    EXPECT_EQ(next->at.ns, 1'483'228'800 * kSecond);
    EXPECT_EQ(next->direction, 1);
    EXPECT_FALSE(next_leap(s, UnixTime{1'483'228'800 * kSecond}));  // none after the last
    s.entries.push_back({UnixTime{1'800'000'000 * kSecond}, 36});
    const auto deleted = next_leap(s, UnixTime{1'700'000'000 * kSecond});
    ASSERT_TRUE(deleted);
    EXPECT_EQ(deleted->direction, -1);
}

TEST(LeapSeconds, ReadsThisMachinesTzdataList) {
    std::ifstream in("/usr/share/zoneinfo/leap-seconds.list");
    if (!in) {
        GTEST_SKIP() << "no tzdata leap-seconds.list here";
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto s = parse_leap_seconds(text.str());
    ASSERT_TRUE(s) << s.error();
    EXPECT_EQ(s->entries.front().tai_offset, 10);  // 1972
    EXPECT_GE(s->entries.back().tai_offset, 37);
}

struct BadList {
    std::string text;
    std::string error;
};

class LeapSecondsBad : public ::testing::TestWithParam<BadList> {};

TEST_P(LeapSecondsBad, SaysWhatIsWrong) {
    auto s = parse_leap_seconds(GetParam().text);
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().find(GetParam().error), std::string::npos) << s.error();
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    text.replace(text.find(from), from.size(), to);
    return text;
}

INSTANTIATE_TEST_SUITE_P(
    Files, LeapSecondsBad,
    ::testing::Values(
        BadList{replaced(kList, "3960835200", "3960835201"), "hash does not match"},
        BadList{replaced(kList, "#@\t3991593600\n", ""), "no expiry"},
        BadList{replaced(kList, "#h\tae85f6f9 da6aaf74 c8eb0544 5e2ec81d ef95e0a4\n", ""),
                "no hash"},
        BadList{replaced(kList, "3692217600\t37", "3692217600\t39"), "line 6: TAI-UTC must"},
        BadList{replaced(kList, "3692217600", "3600000000"), "line 6: entries are not in"},
        BadList{replaced(kList, "3692217600", "3692217601"), "line 6: a leap must fall"},
        BadList{replaced(kList, "3692217600\t37", "3692217600 x"), "line 6: expected"},
        BadList{replaced(kList, "#@\t3991593600", "#@\tsoon"), "line 3: a number must follow"},
        // Found by fuzz/leap_seconds_fuzz.cpp: an NTP time that overflowed nanoseconds.
        BadList{replaced(kList, "3692217600", "36492217600"), "line 6: the time or the TAI-UTC"},
        BadList{replaced(kList, "3991593600", "39915936000"), "line 3: the time is out of range"},
        BadList{replaced(kList, "\t37\t", "\t99999999999\t"), "line 6: the time or the TAI-UTC"},
        BadList{"", "no expiry"}));

TEST(LeapSeconds, EndOfUtcDay) {
    EXPECT_EQ(end_of_utc_day(UnixTime{1'483'228'799 * kSecond}).ns, 1'483'228'800 * kSecond);
    EXPECT_EQ(end_of_utc_day(UnixTime{1'483'228'800 * kSecond}).ns,
              (1'483'228'800 + 86'400) * kSecond);
}

}  // namespace
}  // namespace cloudtime::proto
