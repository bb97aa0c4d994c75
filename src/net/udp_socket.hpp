// SPDX-License-Identifier: Apache-2.0
// A UDP socket that reports the kernel's receive timestamp of every datagram
// (SO_TIMESTAMPNS) and, when bound to a wildcard address, answers from the address that
// was asked (IP_PKTINFO / IPV6_PKTINFO).
#pragma once

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "net/socket_address.hpp"
#include "proto/timestamp.hpp"
#include "sys/fd.hpp"
#include "util/expected.hpp"

namespace cloudtime::sys {

struct UdpOptions {
    bool reuse_port = false;  // SO_REUSEPORT: one socket per worker on the same address
    bool nonblocking = true;
    // SO_RCVBUF in bytes (0: the kernel's default). Forced past net.core.rmem_max where the
    // process may (CAP_NET_ADMIN), else capped there by the kernel.
    int receive_buffer = 0;
    // SO_TIMESTAMPING beside SO_TIMESTAMPNS: replies may ask for their transmit stamp
    // (sys/tx_timestamps.hpp).
    bool transmit_timestamps = false;
};

// The local address a datagram was sent to, kept to answer from it.
struct DestinationInfo {
    bool present = false;
    int family = 0;
    in_addr v4{};
    in6_addr v6{};
    unsigned ifindex = 0;
};

struct Datagram {
    std::size_t size = 0;
    bool truncated = false;  // larger than the buffer; the tail is lost
    SocketAddress peer;
    proto::UnixTime kernel_receive;  // SO_TIMESTAMPNS, or the time read after recvmsg
    bool kernel_timestamp = false;   // false when the kernel gave none
    DestinationInfo destination;
};

enum class IoStatus : std::uint8_t { ok, would_block, error };

class UdpSocket {
  public:
    static Expected<UdpSocket> bind(const SocketAddress& local, const UdpOptions& options);
    // An unbound client socket connected to one server (a random source port, RFC 9109);
    // with `transmit_timestamps`, sends may ask for their kernel transmit stamp.
    static Expected<UdpSocket> connect(const SocketAddress& server,
                                       bool transmit_timestamps = false);
    // A socket opened elsewhere (passed over a channel); it is switched to non-blocking.
    static Expected<UdpSocket> adopt(UniqueFd fd);

    int fd() const { return fd_.get(); }
    SocketAddress local_address() const;
    // SO_RCVBUF as the kernel counts it: the default, or twice what was set (the second half
    // pays for its bookkeeping).
    int receive_buffer() const;

    IoStatus receive(std::span<std::uint8_t> buffer, Datagram& out) const;
    IoStatus send_to(std::span<const std::uint8_t> payload, const Datagram& request) const;
    // Connected sockets; `stamp`: ask for the kernel's transmit stamp (sys/tx_timestamps.hpp).
    IoStatus send(std::span<const std::uint8_t> payload, bool stamp = false) const;

  private:
    explicit UdpSocket(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

}  // namespace cloudtime::sys
