// SPDX-License-Identifier: Apache-2.0
#include "sys/fd.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cloudtime::sys {

void UniqueFd::reset(int fd) {
    if (fd_ >= 0) {
        ::close(fd_);
    }
    fd_ = fd;
}

Error os_error(const std::string& what) {
    const int err = errno;
    return Error{what + ": " + std::strerror(err), err};
}

}  // namespace cloudtime::sys
