// SPDX-License-Identifier: Apache-2.0
// Kernel timestamps of datagrams sent (SO_TIMESTAMPING), for interleaved mode: the kernel
// stamps a datagram when the driver takes it (software timestamp) and queues the stamp on the
// socket's error queue. Only datagrams that ask for it are stamped (a control message per
// datagram), so the replies of basic mode cost nothing more.
//
// A stamp names its datagram by a per-socket counter (SOF_TIMESTAMPING_OPT_ID): the n-th
// datagram that asked for a stamp since the counter was (re)started is key n. The kernel
// does not count a datagram it refused before queueing it (Linux 6.1 ip_append_data rolls the
// counter back); one it dropped later keeps its key and gets no stamp. With OPT_TSONLY the
// stamp comes without a copy of the datagram.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "proto/timestamp.hpp"
#include "util/expected.hpp"

namespace cloudtime::sys {

// Software receive timestamps in SCM_TIMESTAMPING, stamps of sent datagrams on request,
// numbered and without payload. Beside SO_TIMESTAMPNS (see UdpSocket::bind).
Status enable_timestamping(int fd);
// Starts the socket's stamp counter again at 0 (after a send whose outcome left it unknown).
Status restart_stamp_keys(int fd);

// Room a reply's control buffer needs for the stamp request, and writing it after `used`
// octets already written; returns the new length.
std::size_t stamp_request_space();
std::size_t write_stamp_request(std::span<char> control, std::size_t used);

struct TransmitStamp {
    std::uint32_t key = 0;  // the datagram's number (OPT_ID)
    proto::UnixTime time;   // the kernel's software stamp, on the system clock
};

// Reads the stamps queued on a socket's error queue, a batch at a time, without blocking.
class TransmitStampReader {
  public:
    explicit TransmitStampReader(std::size_t capacity);
    // Appends to `out` what is queued (up to capacity per call); returns how many were read.
    // Anything on the error queue that is no transmit stamp (an ICMP error) is skipped.
    std::size_t read(int fd, std::vector<TransmitStamp>& out);

  private:
    std::size_t capacity_;
    std::vector<std::array<char, 256>> controls_;
    std::vector<iovec> iov_;
    std::vector<mmsghdr> messages_;
    std::array<char, 8> payload_{};  // OPT_TSONLY: nothing comes back, but recvmsg wants a buffer
};

// The stamp numbered `key` from the socket's error queue, waiting up to `timeout_ms` for it
// (a client's own request: the kernel stamps it within microseconds on any path it takes).
std::optional<proto::UnixTime> wait_transmit_stamp(int fd, std::uint32_t key, int timeout_ms);

}  // namespace cloudtime::sys
