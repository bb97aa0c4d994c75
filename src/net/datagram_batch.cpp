// SPDX-License-Identifier: Apache-2.0
#include "net/datagram_batch.hpp"

#include <algorithm>
#include <cerrno>

#include "net/socket_messages.hpp"
#include "net/tx_timestamps.hpp"

namespace cloudtime::sys {

DatagramBatch::DatagramBatch(std::size_t capacity, std::size_t buffer_size)
    : capacity_(capacity),
      buffer_size_(buffer_size),
      buffers_(capacity * buffer_size),
      reply_buffers_(capacity * buffer_size),
      peers_(capacity),
      controls_(capacity),
      reply_controls_(capacity),
      failed_(capacity),
      iov_(capacity),
      reply_iov_(capacity),
      in_(capacity),
      out_(capacity),
      datagrams_(capacity) {}

IoStatus DatagramBatch::receive(const UdpSocket& socket) {
    received_ = 0;
    replies_ = 0;
    for (std::size_t i = 0; i < capacity_; ++i) {
        iov_[i] = {&buffers_[i * buffer_size_], buffer_size_};
        msghdr& h = in_[i].msg_hdr;
        h = msghdr{};
        h.msg_name = &peers_[i];
        h.msg_namelen = sizeof(sockaddr_storage);
        h.msg_iov = &iov_[i];
        h.msg_iovlen = 1;
        h.msg_control = controls_[i].data();
        h.msg_controllen = controls_[i].size();
    }
    const int n = ::recvmmsg(socket.fd(), in_.data(), static_cast<unsigned>(capacity_),
                             MSG_DONTWAIT, nullptr);
    if (n <= 0) {
        return (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                   ? IoStatus::would_block
                   : IoStatus::error;
    }
    received_ = static_cast<std::size_t>(n);
    for (std::size_t i = 0; i < received_; ++i) {
        read_message(in_[i].msg_hdr, in_[i].msg_len, datagrams_[i]);
    }
    return IoStatus::ok;
}

std::span<const std::uint8_t> DatagramBatch::payload(std::size_t i) const {
    return std::span(buffers_).subspan(i * buffer_size_,
                                       std::min(datagrams_[i].size, buffer_size_));
}

std::span<std::uint8_t> DatagramBatch::reply(std::size_t r) {
    return std::span(reply_buffers_).subspan(r * buffer_size_, buffer_size_);
}

std::span<std::uint8_t> DatagramBatch::next_reply() {
    return reply(replies_);
}

void DatagramBatch::set_reply_length(std::size_t r, std::size_t length) {
    reply_iov_[r].iov_len = std::min(length, buffer_size_);
}

void DatagramBatch::commit_reply(std::size_t i, std::size_t length, bool stamp) {
    const std::size_t r = replies_++;
    const Datagram& d = datagrams_[i];
    reply_iov_[r] = {&reply_buffers_[r * buffer_size_], std::min(length, buffer_size_)};
    msghdr& h = out_[r].msg_hdr;
    h = msghdr{};
    h.msg_name = const_cast<sockaddr*>(d.peer.sockaddr_ptr());
    h.msg_namelen = d.peer.length();
    h.msg_iov = &reply_iov_[r];
    h.msg_iovlen = 1;
    h.msg_controllen = write_reply_source(d.destination, reply_controls_[r]);
    if (stamp) {
        h.msg_controllen = write_stamp_request(reply_controls_[r], h.msg_controllen);
    }
    h.msg_control = h.msg_controllen != 0 ? reply_controls_[r].data() : nullptr;
}

bool DatagramBatch::send_one(const UdpSocket& socket, std::size_t r) {
    ssize_t n = 0;
    do {
        n = ::sendmsg(socket.fd(), &out_[r].msg_hdr, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    failed_[r] = n < 0 ? 1 : 0;
    return n >= 0;
}

std::size_t DatagramBatch::send(const UdpSocket& socket) {
    return send_messages(socket.fd(), std::span(out_).first(replies_),
                         std::span(failed_).first(replies_));
}

}  // namespace cloudtime::sys
