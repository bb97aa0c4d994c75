// SPDX-License-Identifier: Apache-2.0
// Where the served header comes from. One thread calls refresh() about once a second and
// publishes the result; workers never call into a source. (The host's chrony arrives as
// another ClockSource.)
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "proto/clock_snapshot.hpp"
#include "sys/clock.hpp"
#include "util/expected.hpp"

namespace cloudtime::server {

class ClockSource {
  public:
    virtual ~ClockSource() = default;
    virtual proto::ClockSnapshot refresh(proto::UnixTime now) = 0;
    virtual std::string describe() const = 0;
};

struct StaticIdentity {
    std::uint8_t stratum = 10;
    std::uint32_t refid = 0;
    std::int8_t precision = -20;
};

// The kernel's state through read-only adjtimex: unsynchronized when STA_UNSYNC is set,
// root dispersion from maxerror. The kernel does not know the upstream's stratum and refid:
// the operator states them.
class KernelClockSource final : public ClockSource {
  public:
    explicit KernelClockSource(StaticIdentity identity) : identity_(identity) {}
    proto::ClockSnapshot refresh(proto::UnixTime now) override;
    std::string describe() const override;

  private:
    StaticIdentity identity_;
    double last_max_error_s_ = -1.0;
    proto::UnixTime reference_time_;
};

// Pure mapping from a kernel state to a snapshot; `reference_time` is when the kernel's
// error bound was last seen reset by the host's time daemon.
proto::ClockSnapshot snapshot_from_kernel(const sys::KernelTimeState& state,
                                          const StaticIdentity& identity, proto::UnixTime now,
                                          proto::UnixTime reference_time);

// A lab clock: always synchronized at a configured stratum. Never for production.
class LocalClockSource final : public ClockSource {
  public:
    explicit LocalClockSource(StaticIdentity identity) : identity_(identity) {}
    proto::ClockSnapshot refresh(proto::UnixTime now) override;
    std::string describe() const override;

  private:
    StaticIdentity identity_;
    proto::UnixTime started_;
};

}  // namespace cloudtime::server
