// SPDX-License-Identifier: Apache-2.0
#include "proto/timestamp.hpp"

#include <gtest/gtest.h>

namespace cloudtime::proto {
namespace {

constexpr std::int64_t kSec = kNanosPerSecond;
// 2036-02-07T06:28:16Z: NTP era 0 ends, the seconds field wraps to 0.
constexpr std::int64_t kEra1StartUnix = 2'085'978'496;

TEST(Timestamp, UnixEpochIsNtpSeconds2208988800) {
    const NtpTimestamp ts = to_ntp(UnixTime{0});
    EXPECT_EQ(ts.seconds(), 2'208'988'800U);
    EXPECT_EQ(ts.fraction(), 0U);
}

TEST(Timestamp, FractionIsBinary) {
    // Half a second is 0x80000000, a quarter 0x40000000 (RFC 5905 section 6).
    EXPECT_EQ(to_ntp(UnixTime{kSec / 2}).fraction(), 0x8000'0000U);
    EXPECT_EQ(to_ntp(UnixTime{kSec / 4}).fraction(), 0x4000'0000U);
    EXPECT_EQ(to_ntp(UnixTime{1}).fraction(), 4U);  // 1 ns = 4.29 units, rounded
}

TEST(Timestamp, KnownDate) {
    // 2024-01-01T00:00:00Z = Unix 1704067200 = NTP 3913056000.
    const NtpTimestamp ts = to_ntp(UnixTime{1'704'067'200 * kSec});
    EXPECT_EQ(ts.seconds(), 3'913'056'000U);
    EXPECT_EQ(to_unix(ts, UnixTime{1'704'067'200 * kSec}).ns, 1'704'067'200 * kSec);
}

TEST(Timestamp, RoundTripKeepsNanoseconds) {
    const UnixTime pivot{1'800'000'000 * kSec};
    for (std::int64_t ns : {0LL, 1LL, 999'999'999LL, 123'456'789LL, 500'000'000LL}) {
        const UnixTime t{1'800'000'000 * kSec + ns};
        EXPECT_EQ(to_unix(to_ntp(t), pivot).ns, t.ns) << ns;
    }
}

TEST(Timestamp, Era1BeginsAt2036Boundary) {
    const NtpTimestamp before = to_ntp(UnixTime{(kEra1StartUnix - 1) * kSec});
    const NtpTimestamp at = to_ntp(UnixTime{kEra1StartUnix * kSec});
    EXPECT_EQ(before.seconds(), 0xFFFF'FFFFU);
    EXPECT_EQ(at.seconds(), 0U);
}

TEST(Timestamp, ConversionPicksEraNearestPivotOnBothSidesOf2036) {
    const NtpTimestamp last_of_era0{0xFFFF'FFFFULL << 32U};
    const NtpTimestamp first_of_era1{0};
    const NtpTimestamp early_era1{10ULL << 32U};
    for (const std::int64_t pivot_s :
         {kEra1StartUnix - 3600, kEra1StartUnix - 1, kEra1StartUnix, kEra1StartUnix + 3600}) {
        const UnixTime pivot{pivot_s * kSec};
        EXPECT_EQ(to_unix(last_of_era0, pivot).ns, (kEra1StartUnix - 1) * kSec) << pivot_s;
        EXPECT_EQ(to_unix(first_of_era1, pivot).ns, kEra1StartUnix * kSec) << pivot_s;
        EXPECT_EQ(to_unix(early_era1, pivot).ns, (kEra1StartUnix + 10) * kSec) << pivot_s;
    }
}

TEST(Timestamp, PivotFarBeforeWrapStillMapsSmallSecondsToEra1) {
    // A client in 2026 receiving seconds=5 of era 1 (2036): within 68 years, era 1 is nearer.
    const UnixTime pivot{1'790'000'000 * kSec};
    EXPECT_EQ(to_unix(NtpTimestamp{5ULL << 32U}, pivot).ns, (kEra1StartUnix + 5) * kSec);
    // And a 1970s timestamp stays in era 0 for the same pivot.
    EXPECT_EQ(to_unix(to_ntp(UnixTime{100 * kSec}), pivot).ns, 100 * kSec);
}

TEST(Timestamp, NegativeUnixTimesKeepPositiveFraction) {
    const UnixTime t{-kSec / 2};  // 1969-12-31T23:59:59.5Z
    const NtpTimestamp ts = to_ntp(t);
    EXPECT_EQ(ts.seconds(), 2'208'988'799U);
    EXPECT_EQ(ts.fraction(), 0x8000'0000U);
    EXPECT_EQ(to_unix(ts, UnixTime{0}).ns, t.ns);
}

TEST(NtpShort, Conversions) {
    EXPECT_EQ(NtpShort::from_seconds(1.0).raw, 0x0001'0000U);
    EXPECT_EQ(NtpShort::from_seconds(0.5).raw, 0x0000'8000U);
    EXPECT_EQ(NtpShort::from_seconds(-1.0).raw, 0U);
    EXPECT_EQ(NtpShort::from_seconds(1e9).raw, 0xFFFF'FFFFU);
    EXPECT_DOUBLE_EQ(NtpShort{0x0002'4000U}.to_seconds(), 2.25);
}

TEST(Precision, Exponent) {
    EXPECT_EQ(precision_exponent(1e-9), -29);  // 2^-30 < 1 ns <= 2^-29
    EXPECT_EQ(precision_exponent(1e-6), -19);
    EXPECT_EQ(precision_exponent(1.0), 0);
    EXPECT_EQ(precision_exponent(0.0), -128);
}

}  // namespace
}  // namespace cloudtime::proto
