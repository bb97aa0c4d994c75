// SPDX-License-Identifier: Apache-2.0
// Telling the service manager (systemd, Type=notify) what the daemon is doing, through
// libsystemd's sd_notify: ready, reloading, stopping, a status line, watchdog pings. Outside
// systemd (no $NOTIFY_SOCKET) every call does nothing.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace cloudtime::sys {

class ServiceManager {
  public:
    // Reads $NOTIFY_SOCKET and the watchdog settings once, at start.
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
    std::optional<std::chrono::microseconds> watchdog_;
    std::chrono::steady_clock::time_point last_ping_{};
};

}  // namespace cloudtime::sys
