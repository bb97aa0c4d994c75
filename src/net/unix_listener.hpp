// SPDX-License-Identifier: Apache-2.0
// A local stream socket for status queries (`cloudtime status`): the daemon accepts one client
// at a time from its main loop, writes a document and closes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sys/fd.hpp"
#include "util/expected.hpp"

namespace cloudtime::sys {

class UnixListener {
  public:
    // Creates the socket's directory if missing, replaces a stale socket file (one nobody
    // answers on) but refuses one that a running daemon still serves.
    static Expected<UnixListener> listen(const std::string& path);
    // The process serving `path` now ("pid N (name)"), if any answers there.
    static std::optional<std::string> holder(const std::string& path);
    UnixListener(UnixListener&& other) noexcept;
    UnixListener& operator=(UnixListener&&) = delete;
    UnixListener(const UnixListener&) = delete;
    UnixListener& operator=(const UnixListener&) = delete;
    ~UnixListener();  // removes the socket file

    int fd() const { return fd_.get(); }
    const std::string& path() const { return path_; }
    // Accepts a waiting client, writes `text` (within a short timeout) and closes.
    Status answer(std::string_view text) const;

  private:
    UnixListener(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
    UniqueFd fd_;
    std::string path_;
};

// Client side: connects to `path` and reads until the server closes.
Expected<std::string> read_unix_stream(const std::string& path, int timeout_ms);

}  // namespace cloudtime::sys
