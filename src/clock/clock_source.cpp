// SPDX-License-Identifier: Apache-2.0
#include "clock/clock_source.hpp"

#include <spdlog/spdlog.h>

#include "proto/refid.hpp"

namespace cloudtime::server {

proto::ClockSnapshot snapshot_from_kernel(const sys::KernelTimeState& state,
                                          const StaticIdentity& identity, proto::UnixTime now,
                                          proto::UnixTime reference_time) {
    proto::ClockSnapshot s;
    s.synchronized = state.synchronized;
    s.leap = state.insert_leap   ? proto::Leap::insert_second
             : state.delete_leap ? proto::Leap::delete_second
                                 : proto::Leap::none;
    s.stratum = identity.stratum;
    s.refid = identity.refid;
    s.precision = identity.precision;
    // maxerror is the kernel's bound on the clock's error, kept growing by the kernel itself
    // between updates: the honest root dispersion. The kernel keeps no root delay apart.
    s.root_delay_s = 0.0;
    s.root_dispersion_s = state.max_error_s;
    s.dispersion_epoch = now;
    s.reference_time = reference_time;
    return s;
}

proto::ClockSnapshot KernelClockSource::refresh(proto::UnixTime now) {
    auto state = sys::read_kernel_time_state();
    if (!state) {
        spdlog::warn("kernel clock state unreadable ({}); serving as unsynchronized",
                     state.error());
        proto::ClockSnapshot unsynced;
        unsynced.precision = identity_.precision;
        return unsynced;
    }
    // A falling error bound means the time daemon just corrected the clock.
    if (last_max_error_s_ < 0.0 || state->max_error_s < last_max_error_s_) {
        reference_time_ = now;
    }
    last_max_error_s_ = state->max_error_s;
    return snapshot_from_kernel(*state, identity_, now, reference_time_);
}

std::string KernelClockSource::describe() const {
    return "kernel (adjtimex, read-only; stratum " + std::to_string(identity_.stratum) +
           ", refid " + proto::refid_to_string(identity_.refid, identity_.stratum) + ")";
}

proto::ClockSnapshot LocalClockSource::refresh(proto::UnixTime now) {
    if (started_.ns == 0) {
        started_ = now;
    }
    proto::ClockSnapshot s;
    s.synchronized = true;
    s.leap = proto::Leap::none;
    s.stratum = identity_.stratum;
    s.refid = identity_.refid;
    s.precision = identity_.precision;
    s.dispersion_epoch = now;
    s.reference_time = started_;
    return s;
}

std::string LocalClockSource::describe() const {
    return "local (lab only: always synchronized; stratum " + std::to_string(identity_.stratum) +
           ", refid " + proto::refid_to_string(identity_.refid, identity_.stratum) + ")";
}

}  // namespace cloudtime::server
