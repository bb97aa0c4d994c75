// SPDX-License-Identifier: Apache-2.0
#include "sys/poller.hpp"

#include <poll.h>
#include <sys/epoll.h>

#include <algorithm>
#include <array>
#include <ctime>

namespace cloudtime::sys {

Expected<EpollSet> EpollSet::create() {
    UniqueFd fd(::epoll_create1(EPOLL_CLOEXEC));
    if (!fd.valid()) {
        return os_error("epoll_create1");
    }
    return EpollSet(std::move(fd));
}

Status EpollSet::add(int fd, void* tag) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.ptr = tag;
    if (::epoll_ctl(fd_.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
        return os_error("epoll_ctl");
    }
    return Done{};
}

void EpollSet::remove(int fd) {
    ::epoll_ctl(fd_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

std::size_t EpollSet::wait(std::span<void*> ready) {
    constexpr std::size_t kMaxEvents = 64;
    std::array<epoll_event, kMaxEvents> events{};
    const int max = static_cast<int>(std::min(ready.size(), kMaxEvents));
    const int n = ::epoll_wait(fd_.get(), events.data(), max, -1);
    if (n <= 0) {
        return 0;
    }
    for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
        ready[i] = events[i].data.ptr;
    }
    return static_cast<std::size_t>(n);
}

bool wait_readable(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) > 0;
}

bool wait_readable_ns(int fd, std::int64_t timeout_ns) {
    pollfd p{fd, POLLIN, 0};
    const timespec ts{static_cast<time_t>(timeout_ns / 1'000'000'000),
                      static_cast<long>(timeout_ns % 1'000'000'000)};
    return ::ppoll(&p, 1, &ts, nullptr) > 0;
}

namespace {
// One poll over `fds` (negative ones are left out by poll itself): which have any of `events`
// in their revents, in order; nothing when poll failed (a signal).
std::vector<bool> poll_fds(std::span<const int> fds, int timeout_ms, short events) {
    std::vector<pollfd> polled;
    polled.reserve(fds.size());
    for (const int fd : fds) {
        polled.push_back({fd, POLLIN, 0});
    }
    if (::poll(polled.data(), polled.size(), timeout_ms) < 0) {
        return {};
    }
    std::vector<bool> ready;
    ready.reserve(polled.size());
    for (const auto& p : polled) {
        ready.push_back((p.revents & events) != 0);
    }
    return ready;
}
}  // namespace

std::vector<bool> readable_among(std::span<const int> fds, int timeout_ms) {
    return poll_fds(fds, timeout_ms, POLLIN);
}

std::vector<bool> ready_among(std::span<const int> fds, int timeout_ms) {
    return poll_fds(fds, timeout_ms, POLLIN | POLLERR | POLLHUP);
}

}  // namespace cloudtime::sys
