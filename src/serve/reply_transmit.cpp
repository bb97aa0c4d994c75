// SPDX-License-Identifier: Apache-2.0
#include "serve/reply_transmit.hpp"

#include <spdlog/spdlog.h>

#include <memory>

#include "proto/server_decision.hpp"

namespace cloudtime::server {

ReplyTransmitter::ReplyTransmitter(std::size_t batch_size)
    : capacity_(batch_size), slots_(batch_size), reader_(batch_size) {
    stamps_.reserve(batch_size);
}

bool ReplyTransmitter::calibrate(std::size_t index, std::size_t datagrams, proto::UnixTime now) {
    if ((!one_by_one(datagrams) && index + 1 != datagrams) ||
        now.ns - last_calibration_.ns < kCalibrationNs) {
        return false;
    }
    last_calibration_ = now;
    return true;
}

// The transmit time is the last thing written: each reply reads the clock for itself. A few
// replies are sent one by one, each right after its reading, so that none carries the time
// its batch-mates spent in the kernel before it; more (a busy socket, where the CPU is what
// limits) go in one sendmmsg, each reply's reading plus what the ones before it cost.
std::size_t ReplyTransmitter::send_batch(const sys::UdpSocket& socket, sys::DatagramBatch& batch,
                                         const ServedTime& served) {
    const bool alone = one_by_one(batch.replies());
    const auto stamp = [&](std::size_t r) {
        ReplySlot& slot = slots_[r];
        SentReply& reply = slot.sent;
        reply.transmit = served.transmit();
        reply.seal_ns = 0;
        const bool nts = slot.nts.active;
        if (!reply.interleaved) {
            const std::int64_t delay =
                delay_.estimate_ns(alone ? 0 : r) + (nts ? seal_.value() : 0);
            proto::stamp_transmit(batch.reply(r).first<proto::kHeaderSize>(),
                                  proto::UnixTime{reply.transmit.ns + delay});
        }
        // NTS: the authenticator covers the transmit time, so it comes after it. A reply that
        // cannot be sealed (it cannot happen with a buffer as long as the request) goes as the
        // bare header, which an NTS client ignores.
        if (nts) {
            const std::size_t length = nts_.seal(slot.nts, batch.reply(r));
            batch.set_reply_length(r, length != 0 ? length : proto::kHeaderSize);
            // Microseconds; a reading that went backwards or a preemption is no sample.
            constexpr std::int64_t kMaxSealNs = 1'000'000;
            const std::int64_t sealed = served.transmit().ns - reply.transmit.ns;
            if (sealed >= 0 && sealed < kMaxSealNs) {
                reply.seal_ns = sealed;
                seal_.add(sealed);
            }
        }
    };
    if (alone) {
        std::size_t sent = 0;
        for (std::size_t r = 0; r < batch.replies(); ++r) {
            stamp(r);
            sent += batch.send_one(socket, r) ? 1U : 0U;
        }
        return sent;
    }
    for (std::size_t r = 0; r < batch.replies(); ++r) {
        stamp(r);
    }
    return batch.send(socket);
}

Transmitted ReplyTransmitter::send(ServedSocket& socket, sys::DatagramBatch& batch,
                                   const ServedTime& served, proto::InterleavedTable* records) {
    Transmitted t;
    t.sent = send_batch(socket.socket, batch, served);
    t.kernel_tx_stamps = after_send(socket, batch, records);
    return t;
}

// After the send: a record per reply to an interleaved client that the kernel took (its
// receive timestamp, client and transmit time), and every stamped reply waits for its stamp.
std::uint64_t ReplyTransmitter::after_send(ServedSocket& socket, const sys::DatagramBatch& batch,
                                           proto::InterleavedTable* records) {
    bool stamped = false;
    // A stamped reply the kernel refused may or may not have taken a number: the ones after
    // it in this batch wait for nothing, and the numbering starts again.
    bool numbering_lost = false;
    for (std::size_t r = 0; r < batch.replies(); ++r) {
        const SentReply& reply = slots_[r].sent;
        if (!reply.stamp) {
            continue;
        }
        if (batch.failed(r)) {
            numbering_lost = true;
            continue;
        }
        const std::size_t position = one_by_one(batch.replies()) ? 0 : r;
        if (records != nullptr && !reply.receive.is_zero()) {
            records->remember(
                reply.receive, reply.client,
                proto::to_ntp({reply.transmit.ns + reply.seal_ns + delay_.estimate_ns(position)}));
        }
        if (numbering_lost) {
            continue;
        }
        if (!socket.stamped) {
            socket.stamped = std::make_unique<StampedReplies>();
        }
        // The send's delay is measured from the moment the reply was ready (after its seal).
        socket.stamped->sent(reply.receive, reply.client,
                             proto::UnixTime{reply.transmit.ns + reply.seal_ns}, position);
        stamped = true;
    }
    std::uint64_t kept = 0;
    if (stamped || numbering_lost) {
        kept = collect(socket, records);
    }
    if (numbering_lost) {
        socket.stamped.reset();
        if (auto restarted = sys::restart_stamp_keys(socket.socket.fd()); !restarted) {
            spdlog::warn("cannot restart transmit stamps: {}", restarted.error());
        }
    }
    return kept;
}

std::uint64_t ReplyTransmitter::collect(ServedSocket& socket, proto::InterleavedTable* records) {
    stamps_.clear();
    while (reader_.read(socket.socket.fd(), stamps_) != 0) {
    }
    if (!socket.stamped) {
        return 0;  // stamps of a socket whose numbering restarted: nothing waits for them
    }
    std::uint64_t kept = 0;
    for (const sys::TransmitStamp& stamp : stamps_) {
        const StampedReplies::Arrival arrival = socket.stamped->arrived(stamp, records);
        if (arrival.matched) {
            delay_.add(arrival.delay_ns, arrival.position);
        }
        kept += arrival.refined ? 1U : 0U;
    }
    return kept;
}

}  // namespace cloudtime::server
