// SPDX-License-Identifier: Apache-2.0
#include "proto/holdover.hpp"

#include <algorithm>

namespace cloudtime::proto {

HoldoverStep Holdover::update(const ClockSnapshot& from_source, UnixTime now) {
    if (from_source.synchronized) {
        last_good_ = from_source;
        last_good_at_ = now;
        const bool was_active = active_;
        active_ = false;
        return {from_source, was_active ? HoldoverEvent::ended : HoldoverEvent::none};
    }
    // The allowance is fixed when the loss begins: a source that comes back unsynchronized
    // (it restarted and lost its state) does not extend it.
    if (!active_) {
        allowed_s_ =
            from_source.source_interrupted ? std::max(holdover_s_, restart_grace_s_) : holdover_s_;
    }
    const bool within =
        last_good_ && allowed_s_ > 0.0 && seconds_between(last_good_at_, now) <= allowed_s_;
    if (within) {
        const bool was_active = active_;
        active_ = true;
        return {*last_good_, was_active ? HoldoverEvent::none : HoldoverEvent::started};
    }
    const bool was_active = active_;
    active_ = false;
    return {from_source, was_active ? HoldoverEvent::exhausted : HoldoverEvent::none};
}

}  // namespace cloudtime::proto
