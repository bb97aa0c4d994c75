// SPDX-License-Identifier: Apache-2.0
#include "sys/service_manager.hpp"

#include <systemd/sd-daemon.h>

#include <cstdint>
#include <ctime>

namespace cloudtime::sys {

namespace {
void notify(const std::string& state) {
    // Best effort: a service manager that went away is no reason to stop serving time.
    ::sd_notify(0, state.c_str());
}

std::uint64_t monotonic_us() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000U +
           static_cast<std::uint64_t>(ts.tv_nsec) / 1'000U;
}
}  // namespace

ServiceManager::ServiceManager() {
    std::uint64_t usec = 0;
    if (::sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        watchdog_ = std::chrono::microseconds(usec);
    }
}

void ServiceManager::ready(const std::string& status) const {
    notify("READY=1\nSTATUS=" + status);
}

void ServiceManager::reloading() const {
    // MONOTONIC_USEC: what systemd 253's Type=notify-reload asks for; older ones ignore it.
    notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_us()));
}

void ServiceManager::stopping() const {
    notify("STOPPING=1");
}

void ServiceManager::status(const std::string& status) const {
    notify("STATUS=" + status);
}

void ServiceManager::keep_alive() {
    if (!watchdog_) {
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ping_ >= *watchdog_ / 2) {
        notify("WATCHDOG=1");
        last_ping_ = now;
    }
}

}  // namespace cloudtime::sys
