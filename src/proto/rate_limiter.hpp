// SPDX-License-Identifier: Apache-2.0
// Per-source rate limiting (RFC 8633 section 3.9's advice, chrony's `ratelimit`): a token
// bucket per client address (IPv4 address, IPv6 prefix), held in a fixed-size table that every
// worker shares without locks, so that a source is limited whichever worker its requests land
// on and memory stays bounded whatever the number of sources.
//
// Each entry is one 64-bit word: a 20-bit tag of the source's keyed hash and its GCRA
// "theoretical arrival time" in microseconds (44 bits, modular). A request conforms when the
// bucket's TAT, advanced by one interval, is no further ahead of now than `burst` intervals.
// Buckets are 4-way sets; a new source takes an empty way or evicts the way that has been
// idle longest, and starts with a full burst. No I/O and no clock reads: time comes in.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "proto/timestamp.hpp"

namespace cloudtime::proto {

struct RateLimitPolicy {
    bool enabled = true;
    double interval_s = 2.0;            // average time between answered requests, per source
    std::uint32_t burst = 16;           // requests a quiet source may send back to back
    std::uint8_t leak = 2;              // limited requests: 1 in 2^leak is answered anyway
    std::int8_t kod = 1;                // of the rest, 1 in 2^kod gets a KoD RATE; -1: never a KoD
    std::size_t table_entries = 65536;  // rounded up to a power of two (8 octets each)
    std::uint8_t ipv6_prefix = 64;      // IPv6 sources are limited per prefix of this length

    friend bool operator==(const RateLimitPolicy&, const RateLimitPolicy&) = default;
};

// A source as the limiter sees it: the IPv4 address, or the IPv6 address masked to the prefix.
struct SourceKey {
    std::uint64_t high = 0;
    std::uint64_t low = 0;
};
SourceKey source_key_v4(std::uint32_t address);
SourceKey source_key_v6(std::span<const std::uint8_t, 16> address, std::uint8_t prefix);
// Either of the above: an IPv4-mapped address (::ffff:a.b.c.d) is its IPv4 source.
SourceKey source_key(std::span<const std::uint8_t, 16> address, std::uint8_t ipv6_prefix);

enum class RateVerdict : std::uint8_t { allow, leak, kod, drop };

class RateLimiter {
  public:
    // `seed` keys the hash, so that nobody can aim many sources at one bucket.
    RateLimiter(const RateLimitPolicy& policy, std::uint64_t seed, UnixTime epoch);

    // `random` decides leaks and KoDs for limited requests (any well-mixed 64-bit value).
    RateVerdict check(const SourceKey& source, UnixTime now, std::uint64_t random);

    std::size_t entries() const { return size_; }
    std::size_t memory_bytes() const { return size_ * sizeof(std::atomic<std::uint64_t>); }
    const RateLimitPolicy& policy() const { return policy_; }

  private:
    std::uint64_t hash(const SourceKey& key) const;
    bool conforms(std::atomic<std::uint64_t>& slot, std::uint64_t observed, std::uint64_t tag,
                  std::uint64_t now_us, bool& retry);

    RateLimitPolicy policy_;
    std::uint64_t seed_;
    std::int64_t epoch_ns_;
    std::uint64_t interval_us_;
    std::uint64_t window_us_;  // burst * interval
    std::size_t size_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> slots_;
};

}  // namespace cloudtime::proto
