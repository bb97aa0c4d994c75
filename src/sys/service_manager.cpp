// SPDX-License-Identifier: Apache-2.0
#include "sys/service_manager.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string_view>

namespace cloudtime::sys {

namespace {
// The socket $NOTIFY_SOCKET names (a path, or "@name" in the abstract namespace), connected.
Expected<UniqueFd> connect_notify_socket(std::string_view name) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (name.size() < 2 || name.size() >= sizeof(address.sun_path) ||
        (name.front() != '/' && name.front() != '@')) {
        return Error{"NOTIFY_SOCKET '" + std::string(name) + "' is not a socket path"};
    }
    std::memcpy(address.sun_path, name.data(), name.size());
    if (name.front() == '@') {
        address.sun_path[0] = '\0';
    }
    UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
        return os_error("socket");
    }
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0) {
        return os_error("connect to NOTIFY_SOCKET " + std::string(name));
    }
    return fd;
}

std::uint64_t monotonic_us() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000U +
           static_cast<std::uint64_t>(ts.tv_nsec) / 1'000U;
}
}  // namespace

ServiceManager::ServiceManager() {
    if (const char* name = std::getenv("NOTIFY_SOCKET"); name != nullptr && *name != '\0') {
        auto connected = connect_notify_socket(name);
        if (connected) {
            socket_ = std::move(*connected);
        } else {
            spdlog::warn("service manager: {}: readiness is not reported", connected.error());
        }
    }
    std::uint64_t usec = 0;
    if (::sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        watchdog_ = std::chrono::microseconds(usec);
    }
}

void ServiceManager::notify(const std::string& state) const {
    if (!socket_.valid()) {
        return;
    }
    // Best effort: a service manager that went away is no reason to stop serving time.
    iovec part{.iov_base = const_cast<char*>(state.data()), .iov_len = state.size()};
    msghdr message{};
    message.msg_iov = &part;
    message.msg_iovlen = 1;
    (void)::sendmsg(socket_.get(), &message, MSG_NOSIGNAL);
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
