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

struct CounterTotals {
    std::uint64_t received = 0;
    std::uint64_t answered = 0;
    std::uint64_t oversized = 0;  // larger than the receive buffer: dropped unread
    std::uint64_t send_errors = 0;
    std::uint64_t kod_sent = 0;   // answered with a KoD RATE (counted in answered too)
    std::uint64_t leaked = 0;     // over the rate limit but answered anyway (leak)
    std::uint64_t deny_sent = 0;  // answered with a KoD DENY (access list; in answered too)
    std::uint64_t nts = 0;        // NTS requests answered authenticated (in answered too)
    std::uint64_t nts_nak = 0;    // NTS requests answered with a NAK, KoD NTSN (in answered)
    // Replies in interleaved mode (RFC 9769), by where the transmit time they carried came
    // from (daemon: read before the send; kernel: the kernel's software stamp).
    std::array<std::uint64_t, proto::kTransmitSourceCount> interleaved{};
    std::uint64_t kernel_tx_stamps = 0;  // kernel transmit stamps read and kept for a client
    std::array<std::uint64_t, proto::kDropReasonCount> dropped{};

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
    void count_received() { bump(received_); }
    void count_answered(std::uint64_t n) { add(answered_, n); }
    void count_oversized() { bump(oversized_); }
    void count_send_errors(std::uint64_t n) { add(send_errors_, n); }
    void count_kiss(std::uint32_t code) {
        bump(code == proto::kKissDeny     ? deny_sent_
             : code == proto::kKissNtsNak ? nts_nak_
                                          : kod_sent_);
    }
    void count_nts() { bump(nts_); }
    void count_leaked() { bump(leaked_); }
    void count_interleaved(proto::TransmitSource source) {
        bump(interleaved_[static_cast<std::size_t>(source)]);
    }
    void count_kernel_tx_stamps(std::uint64_t n) { add(kernel_tx_stamps_, n); }
    // The worker's measured delay of a send (server/send_delay.hpp), a gauge.
    void set_send_delay(std::int64_t ns) { send_delay_ns_.store(ns, std::memory_order_relaxed); }
    std::int64_t send_delay_ns() const { return send_delay_ns_.load(std::memory_order_relaxed); }
    // What the worker's NTS seal adds to it, a gauge.
    void set_nts_seal(std::int64_t ns) { nts_seal_ns_.store(ns, std::memory_order_relaxed); }
    std::int64_t nts_seal_ns() const { return nts_seal_ns_.load(std::memory_order_relaxed); }
    void count_dropped(proto::DropReason reason) {
        bump(dropped_[static_cast<std::size_t>(reason)]);
    }
    void add_to(CounterTotals& totals) const;

  private:
    static void add(std::atomic<std::uint64_t>& c, std::uint64_t n) { add_relaxed(c, n); }
    static void bump(std::atomic<std::uint64_t>& c) { add_relaxed(c, 1); }
    std::atomic<std::uint64_t> received_{0};
    std::atomic<std::uint64_t> answered_{0};
    std::atomic<std::uint64_t> oversized_{0};
    std::atomic<std::uint64_t> send_errors_{0};
    std::atomic<std::uint64_t> kod_sent_{0};
    std::atomic<std::uint64_t> leaked_{0};
    std::atomic<std::uint64_t> deny_sent_{0};
    std::atomic<std::uint64_t> nts_{0};
    std::atomic<std::uint64_t> nts_nak_{0};
    std::array<std::atomic<std::uint64_t>, proto::kTransmitSourceCount> interleaved_{};
    std::atomic<std::uint64_t> kernel_tx_stamps_{0};
    std::atomic<std::int64_t> send_delay_ns_{0};
    std::atomic<std::int64_t> nts_seal_ns_{0};
    std::array<std::atomic<std::uint64_t>, proto::kDropReasonCount> dropped_{};
};

}  // namespace cloudtime::server
