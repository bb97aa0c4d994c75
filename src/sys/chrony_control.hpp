// chronyd's command socket, as chronyc uses it: our own socket file beside chronyd's (where
// chronyd can answer), requests and replies from proto/chrony_command. Reconnects after a
// failure, since chronyd may have restarted.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "proto/chrony_command.hpp"
#include "sys/unix_datagram.hpp"
#include "util/expected.hpp"

namespace cloudtime::sys {

class ChronyControl {
  public:
    explicit ChronyControl(std::string socket_path);
    Expected<proto::ChronyTracking> tracking(int timeout_ms);
    // Every source, as `chronyc sources` lists them (each request with its own timeout).
    Expected<std::vector<proto::ChronySource>> sources(int timeout_ms);
    const std::string& socket_path() const { return socket_path_; }

  private:
    // One request and its reply; the connection is dropped on failure.
    Expected<std::span<const std::uint8_t>> exchange(std::span<const std::uint8_t> request,
                                                     int timeout_ms);

    Expected<std::span<const std::uint8_t>> exchange_once(std::span<const std::uint8_t> request,
                                                          int timeout_ms);

    std::string socket_path_;
    std::array<std::uint8_t, 512> reply_{};
    std::optional<UnixDatagramClient> client_;
    std::uint32_t sequence_ = 0;
};

}  // namespace cloudtime::sys
