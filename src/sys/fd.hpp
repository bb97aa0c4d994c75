// SPDX-License-Identifier: Apache-2.0
// An owned file descriptor, closed exactly once.
#pragma once

#include <string>
#include <utility>

#include "util/expected.hpp"

namespace cloudtime::sys {

class UniqueFd {
  public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) {
            reset(std::exchange(other.fd_, -1));
        }
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    void reset(int fd = -1);
    int release() { return std::exchange(fd_, -1); }  // the caller owns it now

  private:
    int fd_ = -1;
};

// "what: strerror(errno)" as an Error that keeps errno as its code, at the kernel boundary.
Error os_error(const std::string& what);

}  // namespace cloudtime::sys
