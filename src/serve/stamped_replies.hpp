// SPDX-License-Identifier: Apache-2.0
// The replies of one socket that wait for their kernel transmit stamp, by stamp number
// (sys/tx_timestamps.hpp), and what a stamp that arrives refines: the interleaved record of its
// reply. One worker serves a socket, so this is single-threaded. When the kernel refuses a
// stamped reply the numbering is lost: the worker drops this and restarts the socket's count.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "net/tx_timestamps.hpp"
#include "proto/interleaved_table.hpp"
#include "proto/timestamp.hpp"

namespace cloudtime::server {

class StampedReplies {
  public:
    // A reply that asked for a stamp was taken by the kernel: the next number is its. A zero
    // `receive`: no record, the stamp only measures the send's delay.
    // `position`: its place in its sendmmsg (0: first, or sent alone).
    void sent(proto::NtpTimestamp receive, std::span<const std::uint8_t, 16> client,
              proto::UnixTime daemon_transmit, std::size_t position);

    // The kernel's stamp for a reply, when it is its (the number is waited for, and the stamp
    // lies between the daemon's reading before the send and kMaxStampDelay after it): the
    // send's delay, and whether the reply's record (if it has one) was refined.
    struct Arrival {
        bool matched = false;
        std::int64_t delay_ns = 0;  // the stamp minus the daemon's reading
        std::size_t position = 0;   // its place in its send
        bool refined = false;
    };
    // `records` null: nothing to refine.
    Arrival arrived(const sys::TransmitStamp& stamp, proto::InterleavedTable* records);

    // Longer than any software stamp takes after the send; a later one is not trusted.
    static constexpr std::int64_t kMaxStampDelayNs = 10'000'000;

  private:
    struct Waiting {
        bool valid = false;
        std::uint32_t key = 0;
        proto::NtpTimestamp receive;
        std::array<std::uint8_t, 16> client{};
        proto::UnixTime daemon_transmit;
        std::size_t position = 0;
    };
    static constexpr std::size_t kSlots = 64;  // stamps in flight per socket
    std::array<Waiting, kSlots> slots_{};
    std::uint32_t next_key_ = 0;
};

}  // namespace cloudtime::server
