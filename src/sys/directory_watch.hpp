// SPDX-License-Identifier: Apache-2.0
// Names appearing in and leaving a directory (inotify), for following /run/netns live.
#pragma once

#include <string>
#include <vector>

#include "sys/fd.hpp"
#include "sys/paths.hpp"
#include "util/expected.hpp"

namespace cloudtime::sys {

struct DirectoryChange {
    std::string name;
    bool added = false;  // false: removed
};

class DirectoryWatch {
  public:
    static Expected<DirectoryWatch> open(const std::string& directory);
    int fd() const { return fd_.get(); }
    // The changes queued now (non-blocking); empty when there are none. A queue overflow is
    // reported as an error: the caller must list the directory again.
    Expected<std::vector<DirectoryChange>> read_changes() const;

  private:
    explicit DirectoryWatch(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

}  // namespace cloudtime::sys
