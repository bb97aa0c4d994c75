// SPDX-License-Identifier: Apache-2.0
// chronyd's command interface, as chronyc uses it: its Unix socket (every command; our own
// socket file, where chronyd answers, beside chronyd's or in a directory of our own) or its
// UDP command port (monitoring commands only: what an unprivileged process may ask).
// Requests and replies from proto/chrony_command. Reconnects after a failure, since chronyd
// may have restarted.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "net/datagram_client.hpp"
#include "proto/chrony_command.hpp"
#include "util/expected.hpp"

namespace cloudtime::sys {

class ChronyControl {
  public:
    // `client_directory`: where our socket file goes; empty: beside chronyd's, as chronyc does
    // (which only root and chrony's own user may write to).
    explicit ChronyControl(std::string socket_path, std::string client_directory = {});
    explicit ChronyControl(const SocketAddress& command_port);
    Expected<proto::ChronyTracking> tracking(int timeout_ms);
    // Every source, as `chronyc sources` lists them (each request with its own timeout).
    Expected<std::vector<proto::ChronySource>> sources(int timeout_ms);
    // How chronyd authenticates the NTP source at that address (`chronyc authdata`).
    Expected<proto::ChronyAuthData> auth_data(const proto::ChronySource& source, int timeout_ms);
    // Our socket files a killed process left in `client_directory`; removed, and returned.
    static std::vector<std::string> remove_stale_clients(const std::string& client_directory);

    // The socket's path or "udp ADDR:PORT", for messages.
    const std::string& where() const { return where_; }

  private:
    static constexpr const char* kClientPrefix = "cloudtime";
    // One request and its reply; the connection is dropped on failure.
    Expected<std::span<const std::uint8_t>> exchange(std::span<const std::uint8_t> request,
                                                     int timeout_ms);

    Expected<std::span<const std::uint8_t>> exchange_once(std::span<const std::uint8_t> request,
                                                          int timeout_ms);

    std::string socket_path_;  // empty over UDP
    std::string client_directory_;
    std::optional<SocketAddress> command_port_;
    std::string where_;
    std::array<std::uint8_t, 512> reply_{};
    std::optional<DatagramClient> client_;
    static std::uint32_t first_sequence();  // random: a stale reply never matches
    std::uint32_t sequence_ = first_sequence();
};

}  // namespace cloudtime::sys
