// SPDX-License-Identifier: Apache-2.0
// Control messages shared by the single and batched UDP paths: reading the receive timestamp
// and destination address of a datagram, writing the source address of a reply.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "net/udp_socket.hpp"

namespace cloudtime::sys {

// Room for both timestamp control messages and a packet-info one.
inline constexpr std::size_t kReceiveControlSize = 192;
inline constexpr std::size_t kReplyControlSize = 96;  // packet info and a stamp request

// Fills `out` from a received message header (peer, size, truncation, timestamp, pktinfo).
void read_message(const msghdr& msg, std::size_t size, Datagram& out);

// Writes the IP_PKTINFO/IPV6_PKTINFO that makes a reply leave from the address its request
// was sent to; returns the control length to set (0: none needed).
std::size_t write_reply_source(const DestinationInfo& destination, std::span<char> control);

// sendmmsg until every message was tried; a message the kernel refuses (full buffer,
// unreachable peer) is skipped, and marked 1 in `failed` (as long as `messages`, or empty).
// Returns how many were sent.
std::size_t send_messages(int fd, std::span<mmsghdr> messages, std::span<std::uint8_t> failed = {});

}  // namespace cloudtime::sys
