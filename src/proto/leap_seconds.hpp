// SPDX-License-Identifier: Apache-2.0
// The leap second schedule from an IERS/NIST `leap-seconds.list` (as tzdata ships it): every
// TAI-UTC change, when the list was updated and when it expires, checked against the SHA-1
// the file carries on its `#h` line. Pure: the caller reads the file.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/timestamp.hpp"
#include "util/expected.hpp"

namespace cloudtime::proto {

// The IERS list is about 10 kB; anything far larger is not a leap-seconds list.
inline constexpr std::size_t kLeapSecondsFileLimit = 1U << 20U;

struct LeapEntry {
    UnixTime from;       // TAI-UTC is `tai_offset` from this instant (a UTC midnight) on
    int tai_offset = 0;  // seconds
};

struct LeapSchedule {
    std::vector<LeapEntry> entries;  // strictly increasing
    UnixTime updated;                // the `#$` line
    UnixTime expires;                // the `#@` line
    bool expired_at(UnixTime now) const { return now.ns >= expires.ns; }
};

// A leap second at the end of the UTC day that ends at `at`: +1 inserted, -1 deleted.
struct LeapEvent {
    UnixTime at;  // the midnight that follows the leap second
    int direction = 0;
};

// Parses the whole file; an error names the line and what is wrong (no expiry, a bad or
// missing hash, entries out of order, a step other than one second).
Expected<LeapSchedule> parse_leap_seconds(std::string_view text);

// The first leap after `now` in the schedule, if the schedule knows one.
std::optional<LeapEvent> next_leap(const LeapSchedule& schedule, UnixTime now);

// Midnight UTC at the end of the day that holds `now` (where an announced leap falls).
UnixTime end_of_utc_day(UnixTime now);

}  // namespace cloudtime::proto
