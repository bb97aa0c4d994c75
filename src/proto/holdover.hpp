// Holdover: when the source of truth (chronyd, the kernel) is lost, keep serving its last
// synchronized state for a configured time, its dispersion growing from that state's epoch so
// that clients see the uncertainty rise; then say unsynchronized (LI=3). A pure state machine:
// the source's snapshot and the time come in, what to serve and what changed go out.
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
    explicit Holdover(double holdover_s) : holdover_s_(holdover_s) {}

    HoldoverStep update(const ClockSnapshot& from_source, UnixTime now);
    bool active() const { return active_; }

  private:
    double holdover_s_;
    std::optional<ClockSnapshot> last_good_;
    UnixTime last_good_at_;
    bool active_ = false;
};

}  // namespace cloudtime::proto
