// SPDX-License-Identifier: Apache-2.0
// The time a worker writes into replies: the system clock, or its leap smear while a smear
// window is open. Around the leap itself (a second or two) the kernel's leap state is read
// with the time, because an inserted second repeats POSIX time; otherwise this costs a branch.
#pragma once

#include "proto/leap_smear.hpp"
#include "sys/clock.hpp"

namespace cloudtime::server {

class ServedTime {
  public:
    // Called once per batch, before its receive timestamps are converted.
    explicit ServedTime(const proto::SmearWindow& window) : window_(window) {
        if (window_.active) {
            reference_ = sample(sys::realtime_now());
        }
    }

    proto::UnixTime receive(proto::UnixTime kernel_receive) const {
        if (!window_.active) {
            return kernel_receive;
        }
        return proto::smear(window_, kernel_receive,
                            proto::stepped_at(window_, kernel_receive, reference_.now,
                                              reference_.in_inserted_second));
    }

    // Reads the clock for a transmit timestamp: the last thing before the send.
    proto::UnixTime transmit() const {
        const proto::UnixTime now = sys::realtime_now();
        if (!window_.active) {
            return now;
        }
        const sys::TimeWithLeapState t = sample(now);
        return proto::smear(window_, t.now, t.now.ns >= window_.leap_at.ns || t.in_inserted_second);
    }

  private:
    sys::TimeWithLeapState sample(proto::UnixTime now) const {
        return window_.near_leap(now) ? sys::read_time_with_leap_state()
                                      : sys::TimeWithLeapState{now, false};
    }

    const proto::SmearWindow& window_;
    sys::TimeWithLeapState reference_{};
};

}  // namespace cloudtime::server
