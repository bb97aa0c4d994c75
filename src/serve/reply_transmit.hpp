// SPDX-License-Identifier: Apache-2.0
// The transmit side of a worker: the transmit time each reply carries, the send, and what
// follows it for interleaved clients (the reply's record, its kernel transmit stamp) and for
// measuring the send's own delay (server/send_delay.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "net/datagram_batch.hpp"
#include "net/tx_timestamps.hpp"
#include "proto/access_list.hpp"
#include "proto/interleaved_table.hpp"
#include "proto/timestamp.hpp"
#include "serve/nts_replies.hpp"
#include "serve/send_delay.hpp"
#include "serve/served_socket.hpp"
#include "serve/served_time.hpp"

namespace cloudtime::server {

// What the worker decided for one reply of a batch, kept until after the send.
struct SentReply {
    proto::NtpTimestamp receive;  // zero: no record (a basic client, a KoD, records off)
    proto::Address16 client{};
    bool interleaved = false;  // its transmit time is already written
    bool stamp = false;        // asks the kernel for its transmit stamp
    proto::UnixTime transmit;  // the worker's clock reading before the send
    std::int64_t seal_ns = 0;  // NTS: from that reading until the reply was sealed
};

// One reply of a batch from the worker's decision until after its send: reply r of the batch
// (its octets are the batch's reply buffer r, which sendmmsg reads in place).
struct ReplySlot {
    SentReply sent;
    NtsReply nts;  // active: sealed right after its transmit time
};

struct Transmitted {
    std::size_t sent = 0;
    std::uint64_t kernel_tx_stamps = 0;  // records refined with the kernel's stamp
};

class ReplyTransmitter {
  public:
    explicit ReplyTransmitter(std::size_t batch_size);

    ReplySlot& slot(std::size_t r) { return slots_[r]; }
    // The slot of the batch's next reply, emptied, for the worker to fill as it decides.
    ReplySlot& next_slot(const sys::DatagramBatch& batch) {
        ReplySlot& next = slots_[batch.replies()];
        next.nts.active = false;
        return next;
    }
    // NTS: checks requests, and prepares a slot's reply, which is sealed here right after its
    // transmit time.
    NtsReplies& nts() { return nts_; }
    // Whether the basic reply to datagram `index` of a batch of `datagrams` should ask for
    // its kernel stamp, to measure the send's delay: one every kCalibrationNs at most; in a
    // batch sent with one sendmmsg, its last reply (the one that waits longest).
    bool calibrate(std::size_t index, std::size_t datagrams, proto::UnixTime now);

    // Writes each basic reply's transmit time (its own clock reading, plus the send's
    // measured delay) and sends the batch's replies; then records and stamps. `records`
    // null: no interleaved records (off, or a leap being smeared).
    Transmitted send(ServedSocket& socket, sys::DatagramBatch& batch, const ServedTime& served,
                     proto::InterleavedTable* records);
    // Reads the stamps queued on a socket's error queue (it woke the worker with nothing to
    // read); returns the records refined.
    std::uint64_t collect(ServedSocket& socket, proto::InterleavedTable* records);

    // The delay added to a reply sent alone.
    std::int64_t send_delay_ns() const { return delay_.estimate_ns(0); }
    // NTS: what a seal adds to it (0 before seven NTS replies).
    std::int64_t nts_seal_ns() const { return seal_.value(); }

    // Whether a batch's replies are sent one by one (a few: a server that keeps up), or in
    // one sendmmsg (more: a busy server, where each system call counts). 4: accurate under
    // half the lossless load, and no loss at the lossless rate (bench/accuracy.py,
    // run_benchmark.py's flood; BENCHMARKS.md).
    static bool one_by_one(std::size_t replies) { return replies <= kSentOneByOne; }
    static constexpr std::size_t kSentOneByOne = 4;
    static constexpr std::int64_t kCalibrationNs = 20'000'000;

  private:
    std::size_t send_batch(const sys::UdpSocket& socket, sys::DatagramBatch& batch,
                           const ServedTime& served);
    std::uint64_t after_send(ServedSocket& socket, const sys::DatagramBatch& batch,
                             proto::InterleavedTable* records);

    std::size_t capacity_;
    std::vector<ReplySlot> slots_;
    sys::TransmitStampReader reader_;
    std::vector<sys::TransmitStamp> stamps_;
    SendDelay delay_;
    // NTS: the seal (the authenticator covers the transmit time, so it comes after the
    // reading) delays the send by its own duration, added to a basic reply's transmit time.
    RunningMedian seal_;
    proto::UnixTime last_calibration_;
    NtsReplies nts_;
};

}  // namespace cloudtime::server
