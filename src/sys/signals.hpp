// Signals delivered as readable events (signalfd), so that no handler runs inside a worker.
#pragma once

#include <cstdint>
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

// Waits until `fd` is readable or `timeout_ms` passes; false on timeout.
bool wait_readable(int fd, int timeout_ms);
// The same with a timeout in nanoseconds (ppoll), for pacing.
bool wait_readable_ns(int fd, std::int64_t timeout_ns);
// Waits until one of `fds` (negative ones are ignored) is readable; returns it, or -1 when
// `timeout_ms` passes.
int wait_readable_any(std::initializer_list<int> fds, int timeout_ms);

}  // namespace cloudtime::sys
