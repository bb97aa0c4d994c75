#include "sys/signals.hpp"

#include <poll.h>
#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <csignal>
#include <vector>

namespace cloudtime::sys {

Expected<SignalSet> SignalSet::block(std::initializer_list<int> signals) {
    sigset_t set;
    sigemptyset(&set);
    for (const int s : signals) {
        sigaddset(&set, s);
    }
    if (::pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) {
        return Error{"pthread_sigmask failed"};
    }
    UniqueFd fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!fd.valid()) {
        return os_error("signalfd");
    }
    return SignalSet(std::move(fd));
}

std::optional<int> SignalSet::next() const {
    signalfd_siginfo info{};
    if (::read(fd_.get(), &info, sizeof(info)) != static_cast<ssize_t>(sizeof(info))) {
        return std::nullopt;
    }
    return static_cast<int>(info.ssi_signo);
}

bool wait_readable(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) > 0;
}

int wait_readable_any(std::initializer_list<int> fds, int timeout_ms) {
    std::vector<pollfd> polled;
    for (const int fd : fds) {
        if (fd >= 0) {
            polled.push_back({fd, POLLIN, 0});
        }
    }
    if (::poll(polled.data(), polled.size(), timeout_ms) <= 0) {
        return -1;
    }
    for (const auto& p : polled) {
        if ((p.revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
            return p.fd;
        }
    }
    return -1;
}

bool wait_readable_ns(int fd, std::int64_t timeout_ns) {
    pollfd p{fd, POLLIN, 0};
    const timespec ts{static_cast<time_t>(timeout_ns / 1'000'000'000),
                      static_cast<long>(timeout_ns % 1'000'000'000)};
    return ::ppoll(&p, 1, &ts, nullptr) > 0;
}

}  // namespace cloudtime::sys
