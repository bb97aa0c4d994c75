// SPDX-License-Identifier: Apache-2.0
// Telling the service manager what the daemon is doing, in sd_notify(3)'s protocol: ready,
// reloading, stopping, a status line, watchdog pings. Spoken by systemd (Type=notify) and by
// start-stop-daemon --notify-await (the init script). The socket is connected once, at start:
// the daemon drops to its user later, and start-stop-daemon's socket is root's alone. Without
// $NOTIFY_SOCKET every call does nothing.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "sys/fd.hpp"

namespace cloudtime::sys {

class ServiceManager {
  public:
    // Reads $NOTIFY_SOCKET and the watchdog settings once, at start, and connects to the
    // socket (a socket it cannot reach is logged, and every call then does nothing).
    ServiceManager();

    void ready(const std::string& status) const;
    void reloading() const;
    void stopping() const;
    void status(const std::string& status) const;
    // A watchdog ping, when one is due (every half of WatchdogSec=); call at least that often.
    void keep_alive();
    // WatchdogSec= as set for this process, if at all.
    std::optional<std::chrono::microseconds> watchdog_interval() const { return watchdog_; }

  private:
    void notify(const std::string& state) const;

    UniqueFd socket_;
    std::optional<std::chrono::microseconds> watchdog_;
    std::chrono::steady_clock::time_point last_ping_{};
};

}  // namespace cloudtime::sys
