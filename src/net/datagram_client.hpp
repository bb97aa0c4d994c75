// SPDX-License-Identifier: Apache-2.0
// A client of a local datagram service (chronyd's command socket, or its command port): one
// request, one reply. On a Unix socket the reply comes back to the address the request was
// sent from, so the client binds its own socket file, and removes it when it is destroyed.
#pragma once

#include <sys/un.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "net/socket_address.hpp"
#include "sys/fd.hpp"
#include "util/expected.hpp"

namespace cloudtime::sys {

// The address of the Unix socket at `path`; an error when the path is empty or too long.
Expected<sockaddr_un> unix_socket_address(const std::string& path);

// Removes the socket files clients named after `prefix` left in `directory` when their process
// died without removing them (kill -9): those whose process id no longer runs. Returns them.
std::vector<std::string> remove_stale_clients(const std::string& directory,
                                              const std::string& prefix);

class DatagramClient {
  public:
    // Binds a socket file named after `prefix` and the process in `directory` (mode 0666 so
    // that a server running as another user can answer) and connects it to `server_path`.
    static Expected<DatagramClient> connect_unix(const std::string& server_path,
                                                 const std::string& directory,
                                                 const std::string& prefix);
    // A UDP socket connected to `server` (replies from anywhere else are not received).
    static Expected<DatagramClient> connect_udp(const SocketAddress& server);
    DatagramClient(DatagramClient&& other) noexcept;
    DatagramClient& operator=(DatagramClient&&) = delete;
    DatagramClient(const DatagramClient&) = delete;
    DatagramClient& operator=(const DatagramClient&) = delete;
    ~DatagramClient();

    // Sends `request` and waits up to `timeout_ms` for one datagram; returns its length.
    Expected<std::size_t> exchange(std::span<const std::uint8_t> request,
                                   std::span<std::uint8_t> reply, int timeout_ms) const;

  private:
    DatagramClient(UniqueFd fd, std::string own_path)
        : fd_(std::move(fd)), own_path_(std::move(own_path)) {}
    UniqueFd fd_;
    std::string own_path_;
};

}  // namespace cloudtime::sys
