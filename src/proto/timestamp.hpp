// SPDX-License-Identifier: Apache-2.0
// NTP time formats (RFC 5905 section 6) and their conversion to and from Unix time.
#pragma once

#include <compare>
#include <cstdint>

namespace cloudtime::proto {

// Seconds from the NTP prime epoch (1900-01-01) to the Unix epoch (1970-01-01).
inline constexpr std::int64_t kNtpToUnixSeconds = 2'208'988'800;
inline constexpr std::int64_t kNanosPerSecond = 1'000'000'000;

// An instant as nanoseconds since the Unix epoch: covers 1678..2262, far beyond NTP era 1.
struct UnixTime {
    std::int64_t ns = 0;

    static constexpr UnixTime from_seconds(double s) {
        return UnixTime{static_cast<std::int64_t>(s * 1e9)};
    }
    friend constexpr auto operator<=>(UnixTime, UnixTime) = default;
};

// b - a in seconds.
constexpr double seconds_between(UnixTime a, UnixTime b) {
    return static_cast<double>(b.ns - a.ns) / 1e9;
}

// 64-bit timestamp: 32 bits of seconds in the era, 32 bits of fraction. Kept raw so that
// an echoed timestamp stays bit-exact.
struct NtpTimestamp {
    std::uint64_t raw = 0;

    constexpr std::uint32_t seconds() const { return static_cast<std::uint32_t>(raw >> 32U); }
    constexpr std::uint32_t fraction() const { return static_cast<std::uint32_t>(raw); }
    constexpr bool is_zero() const { return raw == 0; }
    friend constexpr bool operator==(NtpTimestamp, NtpTimestamp) = default;
};

// 32-bit short format (16.16 seconds), used for root delay and root dispersion.
struct NtpShort {
    std::uint32_t raw = 0;

    // Negative values become 0, values beyond the format's range saturate.
    static NtpShort from_seconds(double seconds);
    double to_seconds() const;
    friend constexpr bool operator==(NtpShort, NtpShort) = default;
};

NtpTimestamp to_ntp(UnixTime t);

// NTP timestamps carry no era: choose the one that puts the result nearest to `pivot`
// (within +-68 years), which carries clients and servers across 2036-02-07T06:28:16Z.
UnixTime to_unix(NtpTimestamp ts, UnixTime pivot);

// log2 of a duration in seconds, as in the precision field (rounded up, clamped to int8).
std::int8_t precision_exponent(double seconds);

}  // namespace cloudtime::proto
