// SPDX-License-Identifier: Apache-2.0
// At most one report per period: a condition that persists (an attack, a failing disk) is told
// at once, then again only when the period has passed, never once per event.
#pragma once

#include <chrono>
#include <optional>

namespace cloudtime {

class ReportGate {
  public:
    using Clock = std::chrono::steady_clock;
    explicit ReportGate(Clock::duration every) : every_(every) {}

    // Whether to report now; when it says yes, the next yes comes a period later at the earliest.
    bool due(Clock::time_point now) {
        if (last_ && now - *last_ < every_) {
            return false;
        }
        last_ = now;
        return true;
    }

  private:
    Clock::duration every_;
    std::optional<Clock::time_point> last_;
};

}  // namespace cloudtime
