// SPDX-License-Identifier: Apache-2.0
// The host's chronyd as the source of truth: its `tracking` state through the command socket,
// read by the clock thread about once a second, never by a worker.
#pragma once

#include <string>

#include "clock/clock_source.hpp"
#include "peers/chrony_control.hpp"
#include "proto/chrony_command.hpp"

namespace cloudtime::server {

// Pure mapping from chrony's tracking state to what cloudtimed serves, one stratum below it:
// stratum + 1; refid = chrony's reference (its IPv4 address, the MD5 refid of an IPv6 one,
// or its refid for a reference clock); root delay and dispersion from chrony's, the
// dispersion as of chrony's reference time plus the correction chrony still has to slew.
proto::ClockSnapshot snapshot_from_chrony(const proto::ChronyTracking& tracking,
                                          std::int8_t precision);

class ChronyClockSource final : public ClockSource {
  public:
    ChronyClockSource(sys::ChronyControl chrony, std::int8_t precision);
    proto::ClockSnapshot refresh(proto::UnixTime now) override;
    std::string describe() const override;

  private:
    sys::ChronyControl chrony_;
    std::int8_t precision_;
    std::string last_problem_ = "(not asked yet)";
};

}  // namespace cloudtime::server
