// SPDX-License-Identifier: Apache-2.0
#include "proto/rate_limiter.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "proto/hash_mix.hpp"

namespace cloudtime::proto {

namespace {

constexpr unsigned kTagBits = 20;
constexpr unsigned kTimeBits = 64 - kTagBits;
constexpr std::uint64_t kTimeMask = (std::uint64_t{1} << kTimeBits) - 1;
constexpr std::size_t kWays = 4;
constexpr int kMaxRetries = 8;

std::uint64_t tag_of(std::uint64_t word) {
    return word >> kTimeBits;
}
std::uint64_t time_of(std::uint64_t word) {
    return word & kTimeMask;
}
std::uint64_t pack(std::uint64_t tag, std::uint64_t time_us) {
    return (tag << kTimeBits) | (time_us & kTimeMask);
}
// a - b on the 44-bit circle, as a signed number.
std::int64_t circular_diff(std::uint64_t a, std::uint64_t b) {
    const std::uint64_t d = (a - b) & kTimeMask;
    return d >= (kTimeMask >> 1U)
               ? static_cast<std::int64_t>(d) - static_cast<std::int64_t>(kTimeMask + 1)
               : static_cast<std::int64_t>(d);
}

}  // namespace

SourceKey source_key_v4(std::uint32_t address) {
    return {0x0000'FFFF'0000'0000ULL, address};
}

SourceKey source_key_v6(std::span<const std::uint8_t, 16> a, std::uint8_t prefix) {
    std::uint64_t high = 0;
    std::uint64_t low = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        high = (high << 8U) | a[i];
        low = (low << 8U) | a[8 + i];
    }
    const unsigned p = std::min<unsigned>(prefix, 128);
    if (p <= 64) {
        high = p == 0 ? 0 : high & (~std::uint64_t{0} << (64 - p));
        low = 0;
    } else {
        low = low & (~std::uint64_t{0} << (128 - p));
    }
    return {high, low};
}

SourceKey source_key(std::span<const std::uint8_t, 16> a, std::uint8_t ipv6_prefix) {
    const bool mapped = std::all_of(a.begin(), a.begin() + 10, [](auto o) { return o == 0; }) &&
                        a[10] == 0xFF && a[11] == 0xFF;
    if (!mapped) {
        return source_key_v6(a, ipv6_prefix);
    }
    return source_key_v4((std::uint32_t{a[12]} << 24U) | (std::uint32_t{a[13]} << 16U) |
                         (std::uint32_t{a[14]} << 8U) | a[15]);
}

RateLimiter::RateLimiter(const RateLimitPolicy& policy, std::uint64_t seed, UnixTime epoch)
    : policy_(policy),
      seed_(seed),
      epoch_ns_(epoch.ns),
      interval_us_(std::max<std::uint64_t>(
          1, static_cast<std::uint64_t>(std::llround(policy.interval_s * 1e6)))),
      window_us_(interval_us_ * std::max<std::uint32_t>(1, policy.burst)),
      size_(std::bit_ceil(std::max<std::size_t>(policy.table_entries, kWays))),
      slots_(std::make_unique<std::atomic<std::uint64_t>[]>(size_)) {}

std::uint64_t RateLimiter::hash(const SourceKey& key) const {
    return mix64(mix64(key.high ^ seed_) ^ key.low ^ (seed_ >> 7U));
}

// One GCRA step on a slot that holds our tag. false: limited. `retry`: the slot changed
// under us and the caller must look again.
bool RateLimiter::conforms(std::atomic<std::uint64_t>& slot, std::uint64_t observed,
                           std::uint64_t tag, std::uint64_t now_us, bool& retry) {
    for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
        if (tag_of(observed) != tag) {
            retry = true;
            return true;
        }
        const std::int64_t ahead = circular_diff(time_of(observed), now_us);
        // A TAT far beyond any window is a stale entry from before the clock wrapped.
        const std::uint64_t tat = (ahead < 0 || ahead > static_cast<std::int64_t>(2 * window_us_))
                                      ? now_us
                                      : time_of(observed);
        const std::uint64_t next = tat + interval_us_;
        if (circular_diff(next, now_us) > static_cast<std::int64_t>(window_us_)) {
            return false;  // a limited request does not move the bucket
        }
        if (slot.compare_exchange_weak(observed, pack(tag, next), std::memory_order_relaxed)) {
            return true;
        }
    }
    return true;  // heavy contention on one source: let it through rather than spin
}

RateVerdict RateLimiter::check(const SourceKey& source, UnixTime now, std::uint64_t random) {
    if (!policy_.enabled) {
        return RateVerdict::allow;
    }
    const auto now_us =
        static_cast<std::uint64_t>(std::max<std::int64_t>(0, now.ns - epoch_ns_) / 1000) &
        kTimeMask;
    const std::uint64_t h = hash(source);
    const std::uint64_t tag = std::max<std::uint64_t>(1, h >> kTimeBits);  // 0 marks empty
    const std::size_t base = static_cast<std::size_t>(h) & (size_ - kWays);
    bool allowed = true;
    for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
        std::size_t victim = base;
        std::int64_t victim_age = -1;
        bool found = false;
        bool retry = false;
        for (std::size_t w = 0; w < kWays; ++w) {
            std::atomic<std::uint64_t>& slot = slots_[base + w];
            const std::uint64_t word = slot.load(std::memory_order_relaxed);
            if (tag_of(word) == tag) {
                allowed = conforms(slot, word, tag, now_us, retry);
                found = true;
                break;
            }
            // Empty ways first, then the one idle longest.
            const std::int64_t age = word == 0 ? std::numeric_limits<std::int64_t>::max()
                                               : circular_diff(now_us, time_of(word));
            if (age > victim_age) {
                victim_age = age;
                victim = base + w;
            }
        }
        if (found && !retry) {
            break;
        }
        if (found) {
            continue;
        }
        std::uint64_t expected = slots_[victim].load(std::memory_order_relaxed);
        if (slots_[victim].compare_exchange_strong(expected, pack(tag, now_us + interval_us_),
                                                   std::memory_order_relaxed)) {
            allowed = true;
            break;
        }
    }
    if (allowed) {
        return RateVerdict::allow;
    }
    const std::uint64_t leak_mask = (std::uint64_t{1} << policy_.leak) - 1;
    if ((random & leak_mask) == 0) {
        return RateVerdict::leak;
    }
    if (policy_.kod < 0) {
        return RateVerdict::drop;
    }
    const std::uint64_t kod_mask = (std::uint64_t{1} << static_cast<unsigned>(policy_.kod)) - 1;
    if (((random >> 16U) & kod_mask) == 0) {
        return RateVerdict::kod;
    }
    return RateVerdict::drop;
}

}  // namespace cloudtime::proto
