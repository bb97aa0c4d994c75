// SPDX-License-Identifier: Apache-2.0
// What the server knows about its clock's quality at one moment: everything a reply's header
// says besides the timestamps. Produced by a clock source, read by every worker.
#pragma once

#include <cstdint>
#include <type_traits>

#include "proto/leap_smear.hpp"
#include "proto/packet.hpp"
#include "proto/timestamp.hpp"

namespace cloudtime::proto {

// RFC 5905 PHI: the frequency tolerance by which dispersion grows, 15 ppm.
inline constexpr double kDispersionRate = 15e-6;

struct ClockSnapshot {
    bool synchronized = false;
    Leap leap = Leap::none;  // the announced leap when synchronized
    std::uint8_t stratum = 0;
    std::int8_t precision = -20;
    std::uint32_t refid = 0;
    double root_delay_s = 0.0;
    double root_dispersion_s = 0.0;  // as of dispersion_epoch; grows at kDispersionRate
    UnixTime dispersion_epoch;
    UnixTime reference_time;  // when the clock was last set or corrected (already smeared)
    SmearWindow smear;        // active while served time is being smeared over a leap
    // Unsynchronized only because the source cannot be asked or has just started (a chronyd
    // restart), not because it says it lost synchronization: the restart grace applies.
    bool source_interrupted = false;
};
static_assert(std::is_trivially_copyable_v<ClockSnapshot>);

// The root dispersion at `now`: the snapshot's, grown with the time since its epoch.
double root_dispersion_at(const ClockSnapshot& snapshot, UnixTime now);

}  // namespace cloudtime::proto
