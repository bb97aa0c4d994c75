// SPDX-License-Identifier: Apache-2.0
#include "proto/timestamp.hpp"

#include <cmath>
#include <limits>

namespace cloudtime::proto {

namespace {
constexpr double kShortScale = 65536.0;
constexpr std::uint64_t kFractionScale = 1ULL << 32U;
}  // namespace

NtpShort NtpShort::from_seconds(double seconds) {
    if (!(seconds > 0.0)) {  // also catches NaN
        return NtpShort{0};
    }
    const double scaled = std::round(seconds * kShortScale);
    if (scaled >= static_cast<double>(std::numeric_limits<std::uint32_t>::max())) {
        return NtpShort{std::numeric_limits<std::uint32_t>::max()};
    }
    return NtpShort{static_cast<std::uint32_t>(scaled)};
}

double NtpShort::to_seconds() const {
    return static_cast<double>(raw) / kShortScale;
}

NtpTimestamp to_ntp(UnixTime t) {
    // Floor division so that instants before 1970 keep a fraction in [0, 1 s).
    std::int64_t secs = t.ns / kNanosPerSecond;
    std::int64_t rem = t.ns % kNanosPerSecond;
    if (rem < 0) {
        rem += kNanosPerSecond;
        --secs;
    }
    const auto era_seconds = static_cast<std::uint32_t>(
        static_cast<std::uint64_t>(secs + kNtpToUnixSeconds) & 0xFFFF'FFFFULL);
    // Rounded to the nearest fraction; cannot reach 2^32 since rem < 1e9.
    const std::uint64_t fraction =
        ((static_cast<std::uint64_t>(rem) << 32U) + kNanosPerSecond / 2) / kNanosPerSecond;
    return NtpTimestamp{(static_cast<std::uint64_t>(era_seconds) << 32U) | fraction};
}

UnixTime to_unix(NtpTimestamp ts, UnixTime pivot) {
    std::int64_t pivot_secs = pivot.ns / kNanosPerSecond;
    if (pivot.ns % kNanosPerSecond < 0) {
        --pivot_secs;
    }
    const std::int64_t pivot_ntp = pivot_secs + kNtpToUnixSeconds;
    const auto pivot_era_seconds =
        static_cast<std::uint32_t>(static_cast<std::uint64_t>(pivot_ntp) & 0xFFFF'FFFFULL);
    // Modular difference read as signed: the nearest era wins.
    const auto diff = static_cast<std::int32_t>(ts.seconds() - pivot_era_seconds);
    const std::int64_t unix_secs = pivot_ntp + diff - kNtpToUnixSeconds;
    const auto nanos = static_cast<std::int64_t>(
        (static_cast<std::uint64_t>(ts.fraction()) * kNanosPerSecond + kFractionScale / 2) >> 32U);
    return UnixTime{unix_secs * kNanosPerSecond + nanos};
}

std::int8_t precision_exponent(double seconds) {
    if (!(seconds > 0.0)) {
        return std::numeric_limits<std::int8_t>::min();
    }
    const double exponent = std::ceil(std::log2(seconds));
    if (exponent < std::numeric_limits<std::int8_t>::min()) {
        return std::numeric_limits<std::int8_t>::min();
    }
    if (exponent > std::numeric_limits<std::int8_t>::max()) {
        return std::numeric_limits<std::int8_t>::max();
    }
    return static_cast<std::int8_t>(exponent);
}

}  // namespace cloudtime::proto
