// SPDX-License-Identifier: Apache-2.0
// Leap seconds as served: announced (pass) or smeared, and the planner that decides which
// leap is coming from the upstream's announcement and the leap-seconds list. Pure: the clock
// thread feeds it the time, the upstream's leap bits and the parsed list.
//
// Smearing spreads the leap over a window (Google's default: 24 h, noon to noon UTC, linear,
// ~11.6 ppm) so that the served time never jumps and never repeats, and is never more than
// 1 s from UTC. The system clock itself steps at the leap (the kernel inserts or deletes the
// second); the smear is computed from the true elapsed time, which the POSIX time and whether
// the kernel has already stepped tell exactly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "proto/leap_seconds.hpp"
#include "proto/packet.hpp"
#include "proto/timestamp.hpp"

namespace cloudtime::proto {

enum class SmearShape : std::uint8_t {
    linear,  // constant rate over the window (Google, AWS)
    cosine,  // (1 - cos)/2: the rate changes smoothly at both ends
};

struct SmearPolicy {
    SmearShape shape = SmearShape::linear;
    std::int64_t duration_s = 86'400;      // length of the window in POSIX seconds
    std::int64_t start_before_s = 43'200;  // window opens this long before the leap

    friend bool operator==(const SmearPolicy&, const SmearPolicy&) = default;
};

// A window in which served time is smeared; trivially copyable (it travels in the snapshot).
struct SmearWindow {
    bool active = false;
    std::int8_t direction = 0;  // +1 inserted second, -1 deleted
    SmearShape shape = SmearShape::linear;
    UnixTime leap_at;  // the midnight after the leap second
    std::int64_t duration_s = 0;
    std::int64_t start_before_s = 0;

    UnixTime start() const { return UnixTime{leap_at.ns - start_before_s * 1'000'000'000}; }
    UnixTime end() const { return UnixTime{start().ns + duration_s * 1'000'000'000}; }
    // Within a second of the leap, where POSIX time alone is ambiguous (an inserted second
    // repeats 23:59:59) and the kernel's state must be read with the time.
    bool near_leap(UnixTime posix) const;
};

SmearWindow make_smear_window(const LeapEvent& event, const SmearPolicy& policy);

// The smeared time for the system clock's `posix` reading. `stepped`: the kernel has applied
// the leap (for an inserted second: from the start of the repeated 23:59:59, TIME_OOP, on).
// Outside the window, or when the window is inactive, `posix` itself.
UnixTime smear(const SmearWindow& window, UnixTime posix, bool stepped);

// Whether a receive timestamp `rx` taken just before `now` (read with the kernel's state:
// `now_stepped`) fell after the kernel's step: inside the repeated second, a later reading
// with a smaller POSIX value came after the step.
bool stepped_at(const SmearWindow& window, UnixTime rx, UnixTime now, bool now_stepped);

enum class LeapMode : std::uint8_t { pass, smear };

struct LeapPlan {
    Leap announce = Leap::none;  // the LI bits to serve
    SmearWindow smear;
    std::string warning;  // non-empty when the upstream and the list disagree, once per change
};

// Combines the upstream's announcement (chrony's or the kernel's leap bits, valid on the day
// of the leap) with the leap-seconds list. The upstream decides: the system clock steps only
// when it was told to. The list says earlier what is coming (a smear window opens before the
// upstream's day starts only if it is longer than 12 h) and is checked against the upstream.
class LeapPlanner {
  public:
    LeapPlanner(LeapMode mode, SmearPolicy policy) : mode_(mode), policy_(policy) {}
    // `list` may be null (no file, or unreadable); an expired list is not used.
    LeapPlan plan(UnixTime now, Leap upstream, const LeapSchedule* list);

  private:
    LeapMode mode_;
    SmearPolicy policy_;
    std::optional<LeapEvent> event_;  // kept until its smear window has closed
    std::string last_warning_;
};

}  // namespace cloudtime::proto
