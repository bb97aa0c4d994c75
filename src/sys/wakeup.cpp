// SPDX-License-Identifier: Apache-2.0
#include "sys/wakeup.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace cloudtime::sys {

Expected<Wakeup> Wakeup::create() {
    UniqueFd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!fd.valid()) {
        return os_error("eventfd");
    }
    return Wakeup(std::move(fd));
}

void Wakeup::signal() const {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(fd_.get(), &one, sizeof(one));
}

void Wakeup::drain() const {
    std::uint64_t count = 0;
    [[maybe_unused]] const ssize_t n = ::read(fd_.get(), &count, sizeof(count));
}

}  // namespace cloudtime::sys
