// SPDX-License-Identifier: Apache-2.0
// A wake-up between threads: an eventfd one side signals and the other waits on (epoll, poll)
// and drains. Non-blocking, close-on-exec; the counter cannot overflow at one signal per
// command.
#pragma once

#include "sys/fd.hpp"
#include "util/expected.hpp"

namespace cloudtime::sys {

class Wakeup {
  public:
    static Expected<Wakeup> create();

    int fd() const { return fd_.get(); }
    void signal() const;  // makes fd() readable
    void drain() const;   // makes it unreadable again

  private:
    explicit Wakeup(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

}  // namespace cloudtime::sys
