// SPDX-License-Identifier: Apache-2.0
// Holdover: when the source of truth (chronyd, the kernel) is lost, keep serving its last
// synchronized state for a configured time, its dispersion growing from that state's epoch so
// that clients see the uncertainty rise; then say unsynchronized (LI=3). A source that is
// only interrupted (chronyd restarting: its socket gone, or up but not yet synchronized) is
// held over for at least the restart grace, so that a restart never reaches clients as LI=3.
// A pure state machine: the source's snapshot and the time come in, what to serve and what
// changed go out.
#pragma once

#include <cstdint>
#include <optional>

#include "proto/clock_snapshot.hpp"
#include "proto/timestamp.hpp"

namespace cloudtime::proto {

enum class HoldoverEvent : std::uint8_t {
    none,
    started,    // the source was lost: serving its last state
    ended,      // the source is back
    exhausted,  // held over as long as allowed: serving unsynchronized
};

struct HoldoverStep {
    ClockSnapshot served;
    HoldoverEvent event = HoldoverEvent::none;
};

class Holdover {
  public:
    explicit Holdover(double holdover_s, double restart_grace_s = 0.0)
        : holdover_s_(holdover_s), restart_grace_s_(restart_grace_s) {}

    HoldoverStep update(const ClockSnapshot& from_source, UnixTime now);
    // New limits (a reload): they apply from the next loss on; one being held over keeps its.
    void set_limits(double holdover_s, double restart_grace_s) {
        holdover_s_ = holdover_s;
        restart_grace_s_ = restart_grace_s;
    }
    bool active() const { return active_; }
    // How long the loss being held over may last (holdover, or the restart grace if longer).
    double allowed_s() const { return allowed_s_; }

  private:
    double holdover_s_;
    double restart_grace_s_;
    double allowed_s_ = 0.0;
    std::optional<ClockSnapshot> last_good_;
    UnixTime last_good_at_;
    bool active_ = false;
};

}  // namespace cloudtime::proto
