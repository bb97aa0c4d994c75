// chronyd's command socket, as chronyc uses it: our own socket file beside chronyd's (where
// chronyd can answer), requests and replies from proto/chrony_tracking. Reconnects after a
// failure, since chronyd may have restarted.
#pragma once

#include <optional>
#include <string>

#include "proto/chrony_tracking.hpp"
#include "sys/unix_datagram.hpp"
#include "util/expected.hpp"

namespace cloudtime::sys {

class ChronyControl {
  public:
    explicit ChronyControl(std::string socket_path);
    Expected<proto::ChronyTracking> tracking(int timeout_ms);
    const std::string& socket_path() const { return socket_path_; }

  private:
    std::string socket_path_;
    std::optional<UnixDatagramClient> client_;
    std::uint32_t sequence_ = 0;
};

}  // namespace cloudtime::sys
