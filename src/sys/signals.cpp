// SPDX-License-Identifier: Apache-2.0
#include "sys/signals.hpp"

#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <csignal>

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

}  // namespace cloudtime::sys
