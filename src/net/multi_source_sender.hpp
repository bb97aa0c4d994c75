// SPDX-License-Identifier: Apache-2.0
// Sends batches of datagrams to one server, each from a chosen local source address
// (IP_PKTINFO on a wildcard-bound socket): one socket speaks for many loopback clients.
// For the load generator only.
#pragma once

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "net/socket_address.hpp"
#include "net/udp_socket.hpp"
#include "util/expected.hpp"

namespace cloudtime::sys {

class MultiSourceSender {
  public:
    // `socket` must be bound to the wildcard address of the server's family.
    MultiSourceSender(std::size_t capacity, const SocketAddress& server);

    // Queues one datagram from `source` (IPv4, host byte order; 0 = let the kernel choose).
    void add(std::span<const std::uint8_t> payload, std::uint32_t source);
    std::size_t queued() const { return count_; }
    // Sends what is queued (one sendmmsg, more on a partial send); returns how many went out.
    std::size_t flush(const UdpSocket& socket);

  private:
    SocketAddress server_;
    std::size_t capacity_;
    std::size_t count_ = 0;
    std::vector<iovec> iov_;
    std::vector<mmsghdr> msgs_;
    std::vector<std::array<char, 64>> controls_;
};

// True when this process runs in a named network namespace (/run/netns/*), such as the
// ones tests create.
bool in_private_network_namespace();

}  // namespace cloudtime::sys
