// SPDX-License-Identifier: Apache-2.0
// Batched UDP I/O for the serving hot path: one recvmmsg fills up to `capacity` datagrams with
// their kernel receive timestamps, one sendmmsg sends every reply queued for them. All buffers
// are allocated once, up front; receive() and send() make no allocation and one syscall each.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "net/socket_messages.hpp"
#include "net/udp_socket.hpp"
#include "proto/packet.hpp"

namespace cloudtime::sys {

class DatagramBatch {
  public:
    DatagramBatch(std::size_t capacity, std::size_t buffer_size);
    DatagramBatch(const DatagramBatch&) = delete;
    DatagramBatch& operator=(const DatagramBatch&) = delete;

    // Reads what is queued on the socket, up to capacity. would_block when nothing was.
    IoStatus receive(const UdpSocket& socket);
    std::size_t size() const { return received_; }
    std::size_t capacity() const { return capacity_; }
    std::span<const std::uint8_t> payload(std::size_t i) const;
    const Datagram& datagram(std::size_t i) const { return datagrams_[i]; }

    // The buffer for the next reply (as large as a received datagram may be: an NTS reply is
    // as long as its request); commit_reply() queues it to go back to datagram i's source
    // (from the address the datagram was sent to), asking the kernel for its transmit stamp
    // when `stamp` (the socket has transmit_timestamps).
    std::span<std::uint8_t> next_reply();
    void commit_reply(std::size_t i, std::size_t length, bool stamp = false);
    std::size_t replies() const { return replies_; }
    std::span<std::uint8_t> reply(std::size_t r);
    // Reply r's length once its last fields are written (NTS: after the transmit time).
    void set_reply_length(std::size_t r, std::size_t length);
    // Sends every queued reply (one sendmmsg, repeated only for a partial send); returns how
    // many the kernel took. failed(r): reply r was refused.
    std::size_t send(const UdpSocket& socket);
    // Sends reply r alone (sendmsg): for a reply whose transmit time is read right before it.
    bool send_one(const UdpSocket& socket, std::size_t r);
    bool failed(std::size_t r) const { return failed_[r] != 0; }

  private:
    std::size_t capacity_;
    std::size_t buffer_size_;
    std::size_t received_ = 0;
    std::size_t replies_ = 0;
    std::vector<std::uint8_t> buffers_;
    std::vector<std::uint8_t> reply_buffers_;
    std::vector<sockaddr_storage> peers_;
    std::vector<std::array<char, kReceiveControlSize>> controls_;
    std::vector<std::array<char, kReplyControlSize>> reply_controls_;
    std::vector<std::uint8_t> failed_;
    std::vector<iovec> iov_;
    std::vector<iovec> reply_iov_;
    std::vector<mmsghdr> in_;
    std::vector<mmsghdr> out_;
    std::vector<Datagram> datagrams_;
};

}  // namespace cloudtime::sys
