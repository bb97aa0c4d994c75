// SPDX-License-Identifier: Apache-2.0
// Signals delivered as readable events (signalfd), so that no handler runs inside a worker.
#pragma once

#include <initializer_list>
#include <optional>

#include "sys/fd.hpp"
#include "util/expected.hpp"

namespace cloudtime::sys {

class SignalSet {
  public:
    // Blocks the signals in the calling thread (and in every thread it starts afterwards)
    // and opens a descriptor that reports them.
    static Expected<SignalSet> block(std::initializer_list<int> signals);

    int fd() const { return fd_.get(); }
    // The next pending signal, or nullopt when none is pending.
    std::optional<int> next() const;

  private:
    explicit SignalSet(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

}  // namespace cloudtime::sys
