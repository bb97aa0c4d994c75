// SPDX-License-Identifier: Apache-2.0
// Turns the source of truth into the snapshot workers serve, once a second: the source's
// state, kept for a configured holdover when the source is lost, and the leap second plan
// (announced or smeared) from the upstream's leap bits and the leap-seconds list.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "clock/clock_source.hpp"
#include "proto/holdover.hpp"
#include "proto/leap_seconds.hpp"
#include "proto/leap_smear.hpp"

namespace cloudtime::server {

struct ClockKeeperOptions {
    double holdover_s = 0.0;       // keep serving the last synchronized state this long after loss
    double restart_grace_s = 0.0;  // at least this long when the source is only interrupted
    proto::LeapMode leap_mode = proto::LeapMode::pass;
    proto::SmearPolicy smear{};
    std::string leap_seconds_file{};  // empty: none
};

class ClockKeeper {
  public:
    ClockKeeper(std::unique_ptr<ClockSource> source, ClockKeeperOptions options);
    proto::ClockSnapshot refresh(proto::UnixTime now);
    // Reads the leap-seconds list again (at start, on SIGHUP, and daily by itself).
    void reload_leap_seconds(proto::UnixTime now);
    std::string describe() const { return source_->describe(); }
    // A reload's leap and holdover settings (the source stays): a new leap mode or smear
    // starts a new plan; the leap-seconds file is read at the next reload_leap_seconds().
    void reconfigure(ClockKeeperOptions options);
    bool holding_over() const { return holdover_.active(); }
    // When the leap-seconds list in use expires (none read: nullopt).
    std::optional<proto::UnixTime> leap_list_expiry() const {
        return leap_list_ ? std::optional(leap_list_->expires) : std::nullopt;
    }

  private:
    std::unique_ptr<ClockSource> source_;
    ClockKeeperOptions options_;
    proto::LeapPlanner planner_;
    std::optional<proto::LeapSchedule> leap_list_;
    proto::UnixTime leap_list_read_;
    proto::Holdover holdover_;
};

}  // namespace cloudtime::server
