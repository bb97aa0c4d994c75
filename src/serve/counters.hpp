// SPDX-License-Identifier: Apache-2.0
// Packet counters. Each worker owns one block and is its only writer (relaxed load+store, no
// read-modify-write on the hot path); readers sum the blocks.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proto/server_decision.hpp"

namespace cloudtime::server {

// For counters with one writer: a relaxed load and store, no read-modify-write.
inline void add_relaxed(std::atomic<std::uint64_t>& counter, std::uint64_t n) {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

struct NamedCounter {
    std::string name;
    std::uint64_t value = 0;
};
inline constexpr std::string_view kDroppedPrefix = "dropped.";

// Every packet counter, declared once: plain in sums and in a batch's tally, atomic in a
// worker's block.
template <typename T>
struct PacketCounts {
    T received{};
    T answered{};
    T oversized{};  // larger than the receive buffer: dropped unread
    T send_errors{};
    T kod_sent{};   // answered with a KoD RATE (counted in answered too)
    T leaked{};     // over the rate limit but answered anyway (leak)
    T deny_sent{};  // answered with a KoD DENY (access list; in answered too)
    T nts{};        // answers authenticated with NTS, KoDs included (in answered too)
    T nts_nak{};    // NTS requests answered with a NAK, KoD NTSN (in answered)
    // Replies in interleaved mode (RFC 9769), by where the transmit time they carried came
    // from (daemon: read before the send; kernel: the kernel's software stamp).
    std::array<T, proto::kTransmitSourceCount> interleaved{};
    T kernel_tx_stamps{};  // kernel transmit stamps read and kept for a client
    std::array<T, proto::kDropReasonCount> dropped{};
};

// Calls f(a.c, b.c) for every counter c of two PacketCounts: the one list of the fields.
template <typename A, typename B, typename F>
void for_each_counter(A& a, B& b, F f) {
    f(a.received, b.received);
    f(a.answered, b.answered);
    f(a.oversized, b.oversized);
    f(a.send_errors, b.send_errors);
    f(a.kod_sent, b.kod_sent);
    f(a.leaked, b.leaked);
    f(a.deny_sent, b.deny_sent);
    f(a.nts, b.nts);
    f(a.nts_nak, b.nts_nak);
    for (std::size_t i = 0; i < a.interleaved.size(); ++i) {
        f(a.interleaved[i], b.interleaved[i]);
    }
    f(a.kernel_tx_stamps, b.kernel_tx_stamps);
    for (std::size_t i = 0; i < a.dropped.size(); ++i) {
        f(a.dropped[i], b.dropped[i]);
    }
}

struct CounterTotals : PacketCounts<std::uint64_t> {
    void count_kiss(std::uint32_t code) {
        ++(code == proto::kKissDeny ? deny_sent : code == proto::kKissNtsNak ? nts_nak : kod_sent);
    }
    void count_dropped(proto::DropReason reason) { ++dropped[static_cast<std::size_t>(reason)]; }
    void count_interleaved(proto::TransmitSource source) {
        ++interleaved[static_cast<std::size_t>(source)];
    }

    std::uint64_t dropped_total() const;  // every reason, oversized included
    std::uint64_t interleaved_total() const;
    // Every counter by name, in one order: what the log, the status socket and metrics show
    // ("received", "answered", "dropped", "dropped.<reason>"..., "send_errors", ...).
    std::vector<NamedCounter> named() const;
    // "received=5 answered=3 dropped=2 dropped.bad_mode=1 ...", every counter, for logs.
    std::string to_string() const;
};

class alignas(64) WorkerCounters {
  public:
    // Datagrams read, counted as soon as they are: a reader then sees a batch in flight as
    // not yet accounted for (received > answered + dropped + send_errors), not as unseen.
    void count_received(std::uint64_t n) { add_relaxed(counts_.received, n); }
    // A batch's tally once it is sent, added by the block's one writer: a relaxed load and
    // store each.
    void add(const CounterTotals& tally);
    void add_to(CounterTotals& totals) const;

    // The worker's measured delay of a send (server/send_delay.hpp), a gauge.
    void set_send_delay(std::int64_t ns) { send_delay_ns_.store(ns, std::memory_order_relaxed); }
    std::int64_t send_delay_ns() const { return send_delay_ns_.load(std::memory_order_relaxed); }
    // What the worker's NTS seal adds to it, a gauge.
    void set_nts_seal(std::int64_t ns) { nts_seal_ns_.store(ns, std::memory_order_relaxed); }
    std::int64_t nts_seal_ns() const { return nts_seal_ns_.load(std::memory_order_relaxed); }

  private:
    PacketCounts<std::atomic<std::uint64_t>> counts_;
    std::atomic<std::int64_t> send_delay_ns_{0};
    std::atomic<std::int64_t> nts_seal_ns_{0};
};

}  // namespace cloudtime::server
