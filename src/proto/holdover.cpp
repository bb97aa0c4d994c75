#include "proto/holdover.hpp"

namespace cloudtime::proto {

HoldoverStep Holdover::update(const ClockSnapshot& from_source, UnixTime now) {
    if (from_source.synchronized) {
        last_good_ = from_source;
        last_good_at_ = now;
        const bool was_active = active_;
        active_ = false;
        return {from_source, was_active ? HoldoverEvent::ended : HoldoverEvent::none};
    }
    const bool within =
        last_good_ && holdover_s_ > 0.0 && seconds_between(last_good_at_, now) <= holdover_s_;
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
