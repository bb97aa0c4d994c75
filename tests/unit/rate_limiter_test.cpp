// SPDX-License-Identifier: Apache-2.0
#include "proto/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <array>
#include <thread>
#include <vector>

namespace cloudtime::proto {
namespace {

constexpr std::int64_t kSec = kNanosPerSecond;
const UnixTime kEpoch{1'790'000'000 * kSec};

UnixTime at(double seconds) {
    return UnixTime{kEpoch.ns + static_cast<std::int64_t>(seconds * 1e9)};
}

RateLimitPolicy policy(double interval, std::uint32_t burst, std::uint8_t leak = 16,
                       std::int8_t kod = -1) {
    RateLimitPolicy p;
    p.interval_s = interval;
    p.burst = burst;
    p.leak = leak;  // 1 in 65536: with random = 1 below, never
    p.kod = kod;
    p.table_entries = 1024;
    return p;
}

constexpr std::uint64_t kNoLuck = 1;  // low bits non-zero: no leak, and no KoD below 2^16

TEST(RateLimiter, BurstThenOnePerInterval) {
    RateLimiter limiter(policy(1.0, 4), 42, kEpoch);
    const SourceKey client = source_key_v4(0x0A00'0001U);
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(limiter.check(client, at(0), kNoLuck), RateVerdict::allow) << i;
    }
    EXPECT_EQ(limiter.check(client, at(0), kNoLuck), RateVerdict::drop);
    EXPECT_EQ(limiter.check(client, at(0.5), kNoLuck), RateVerdict::drop);
    EXPECT_EQ(limiter.check(client, at(1.0), kNoLuck), RateVerdict::allow);
    EXPECT_EQ(limiter.check(client, at(1.1), kNoLuck), RateVerdict::drop);
    EXPECT_EQ(limiter.check(client, at(2.0), kNoLuck), RateVerdict::allow);
    // A long pause refills the whole burst, and no more.
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(limiter.check(client, at(100), kNoLuck), RateVerdict::allow) << i;
    }
    EXPECT_EQ(limiter.check(client, at(100), kNoLuck), RateVerdict::drop);
}

TEST(RateLimiter, SourcesAreIndependent) {
    RateLimiter limiter(policy(1.0, 1), 42, kEpoch);
    EXPECT_EQ(limiter.check(source_key_v4(1), at(0), kNoLuck), RateVerdict::allow);
    EXPECT_EQ(limiter.check(source_key_v4(1), at(0), kNoLuck), RateVerdict::drop);
    EXPECT_EQ(limiter.check(source_key_v4(2), at(0), kNoLuck), RateVerdict::allow);
}

TEST(RateLimiter, Ipv6IsLimitedPerPrefix) {
    std::array<std::uint8_t, 16> a{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1};
    std::array<std::uint8_t, 16> b = a;
    b[15] = 2;  // same /64
    std::array<std::uint8_t, 16> c = a;
    c[7] = 2;  // another /64
    RateLimiter limiter(policy(1.0, 1), 42, kEpoch);
    EXPECT_EQ(limiter.check(source_key_v6(a, 64), at(0), kNoLuck), RateVerdict::allow);
    EXPECT_EQ(limiter.check(source_key_v6(b, 64), at(0), kNoLuck), RateVerdict::drop);
    EXPECT_EQ(limiter.check(source_key_v6(c, 64), at(0), kNoLuck), RateVerdict::allow);
    EXPECT_EQ(limiter.check(source_key_v6(b, 128), at(0), kNoLuck), RateVerdict::allow);
}

TEST(RateLimiter, LeakAnswersOneInTwoToTheLeak) {
    RateLimiter limiter(policy(1000.0, 1, 2, -1), 42, kEpoch);
    const SourceKey s = source_key_v4(7);
    ASSERT_EQ(limiter.check(s, at(0), kNoLuck), RateVerdict::allow);
    int leaked = 0;
    int dropped = 0;
    for (std::uint64_t r = 0; r < 4000; ++r) {
        const auto v = limiter.check(s, at(1), r);
        leaked += v == RateVerdict::leak ? 1 : 0;
        dropped += v == RateVerdict::drop ? 1 : 0;
    }
    EXPECT_EQ(leaked, 1000);
    EXPECT_EQ(dropped, 3000);
}

TEST(RateLimiter, KodAtItsFraction) {
    RateLimiter limiter(policy(1000.0, 1, 16, 1), 42, kEpoch);
    const SourceKey s = source_key_v4(7);
    ASSERT_EQ(limiter.check(s, at(0), kNoLuck), RateVerdict::allow);
    EXPECT_EQ(limiter.check(s, at(1), kNoLuck), RateVerdict::kod);  // bit 16 clear
    EXPECT_EQ(limiter.check(s, at(1), kNoLuck | (1U << 16U)), RateVerdict::drop);
}

TEST(RateLimiter, DisabledAllowsEverything) {
    RateLimitPolicy p = policy(1000.0, 1);
    p.enabled = false;
    RateLimiter limiter(p, 42, kEpoch);
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(limiter.check(source_key_v4(1), at(0), kNoLuck), RateVerdict::allow);
    }
}

TEST(RateLimiter, MemoryIsBoundedAndANewSourceIsNeverBlackHoled) {
    // A table of 1024 entries, a million distinct sources: memory stays the same, and a real
    // client that keeps to its rate is always answered although the flood evicts it.
    RateLimiter limiter(policy(1.0, 2), 42, kEpoch);
    EXPECT_EQ(limiter.memory_bytes(), 1024U * 8U);
    const SourceKey real = source_key_v4(0xC000'0201U);
    int real_answered = 0;
    for (std::uint32_t i = 0; i < 1'000'000; ++i) {
        const double t = i * 1e-5;  // 100 k requests per second
        limiter.check(source_key_v4(0x0A00'0000U + i), at(t), kNoLuck);
        if (i % 100'000 == 0) {  // the real client: once a second
            real_answered += limiter.check(real, at(t), kNoLuck) == RateVerdict::allow ? 1 : 0;
        }
    }
    EXPECT_EQ(real_answered, 10);
    EXPECT_EQ(limiter.memory_bytes(), 1024U * 8U);
}

TEST(RateLimiter, SharedAcrossThreads) {
    // Two workers see the same source: together they must not exceed its burst.
    RateLimiter limiter(policy(1000.0, 100), 42, kEpoch);
    std::atomic<int> allowed{0};
    auto work = [&] {
        for (int i = 0; i < 10'000; ++i) {
            if (limiter.check(source_key_v4(9), at(0), kNoLuck) == RateVerdict::allow) {
                allowed.fetch_add(1);
            }
        }
    };
    std::thread a(work);
    std::thread b(work);
    a.join();
    b.join();
    EXPECT_EQ(allowed.load(), 100);
}

}  // namespace
}  // namespace cloudtime::proto
