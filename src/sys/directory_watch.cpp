// SPDX-License-Identifier: Apache-2.0
#include "sys/directory_watch.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace cloudtime::sys {

Expected<DirectoryWatch> DirectoryWatch::open(const std::string& directory) {
    UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!fd.valid()) {
        return os_error("inotify_init1");
    }
    // `ip netns add` creates the file and then bind-mounts the namespace on it; `ip netns
    // delete` unmounts and unlinks it.
    constexpr std::uint32_t kMask = IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM |
                                    IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
    if (::inotify_add_watch(fd.get(), directory.c_str(), kMask) < 0) {
        return os_error("inotify_add_watch " + directory);
    }
    return DirectoryWatch(std::move(fd));
}

Expected<std::vector<DirectoryChange>> DirectoryWatch::read_changes() const {
    std::vector<DirectoryChange> changes;
    alignas(inotify_event) std::array<char, 16384> buffer{};
    for (;;) {
        const ssize_t n = ::read(fd_.get(), buffer.data(), buffer.size());
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                return changes;
            }
            return os_error("read inotify");
        }
        for (ssize_t offset = 0; offset < n;) {
            inotify_event event{};
            std::memcpy(&event, buffer.data() + offset, sizeof(event));
            if ((event.mask & IN_Q_OVERFLOW) != 0) {
                return Error{"inotify queue overflow"};
            }
            if ((event.mask & (IN_DELETE_SELF | IN_MOVE_SELF)) != 0) {
                return Error{"the watched directory was removed"};
            }
            if (event.len > 0) {
                const char* name = buffer.data() + offset + sizeof(inotify_event);
                changes.push_back({std::string(name, ::strnlen(name, event.len)),
                                   (event.mask & (IN_CREATE | IN_MOVED_TO)) != 0});
            }
            offset += static_cast<ssize_t>(sizeof(inotify_event) + event.len);
        }
    }
}

}  // namespace cloudtime::sys
