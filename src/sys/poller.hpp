// SPDX-License-Identifier: Apache-2.0
// Waiting on file descriptors: an epoll set whose events carry a caller's tag (the workers),
// and a one-shot poll over a few fds (control threads).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "sys/fd.hpp"
#include "util/expected.hpp"

namespace cloudtime::sys {

class EpollSet {
  public:
    static Expected<EpollSet> create();

    Status add(int fd, void* tag);  // readable events of fd report `tag`
    void remove(int fd);
    // Blocks until at least one fd is readable (or a signal interrupts: then none); fills
    // `ready` with the tags of the readable ones and returns how many.
    std::size_t wait(std::span<void*> ready);

  private:
    explicit EpollSet(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

// Waits until `fd` is readable or `timeout_ms` passes; false on timeout.
bool wait_readable(int fd, int timeout_ms);
// The same with a timeout in nanoseconds (ppoll), for pacing.
bool wait_readable_ns(int fd, std::int64_t timeout_ns);
// Waits up to `timeout_ms` (-1: without limit) until one of `fds` is readable; fds below 0 are
// left out. Returns which are readable (same order), or nothing when interrupted.
std::vector<bool> readable_among(std::span<const int> fds, int timeout_ms);
// The same, where an error or a hang-up counts as ready too (reading says which): a peer that
// has gone away must wake the caller, not leave it polling.
std::vector<bool> ready_among(std::span<const int> fds, int timeout_ms);

}  // namespace cloudtime::sys
