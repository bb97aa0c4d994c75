// SPDX-License-Identifier: Apache-2.0
// What interleaved mode (RFC 9769) needs the server to remember: for each reply it sent, the
// receive timestamp it carried, whom it went to, and when it really left. A client in
// interleaved mode names its previous exchange by putting that receive timestamp in its next
// request's origin field; the server answers with the previous reply's transmit time, now
// exact (the kernel's, read after the send).
//
// The key is the receive timestamp, which the server chose and only the client (and the
// path) has seen, checked against a keyed hash of the client's address: a spoofed source can
// neither read another client's record nor overwrite it, only push records out of a full
// table, which sends their clients back to basic mode for one exchange. Fixed size, 4-way
// sets, shared by every worker without locks: each record is guarded by its own sequence
// number (a writer that finds it busy gives up; a reader that finds it changing misses).
// No I/O and no clock reads: times come in.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "proto/timestamp.hpp"

namespace cloudtime::proto {

// Where a transmit time came from, least exact first: read by the daemon before the send,
// the kernel's software timestamp taken when the driver took the datagram.
enum class TransmitSource : std::uint8_t { daemon = 0, kernel = 1 };
inline constexpr std::size_t kTransmitSourceCount = 2;
const char* transmit_source_name(TransmitSource source);

struct TransmitRecord {
    NtpTimestamp transmit;
    TransmitSource source = TransmitSource::daemon;
};

class InterleavedTable {
  public:
    // `seed` keys the address hash and the set index.
    InterleavedTable(std::size_t entries, std::uint64_t seed);

    // The reply that carried `receive` went to `client`, leaving at `transmit` as the daemon
    // read it.
    void remember(NtpTimestamp receive, std::span<const std::uint8_t, 16> client,
                  NtpTimestamp transmit);
    // A better transmit time for that reply; false when its record is gone (or busy).
    bool refine(NtpTimestamp receive, std::span<const std::uint8_t, 16> client,
                TransmitRecord better);
    std::optional<TransmitRecord> find(NtpTimestamp receive,
                                       std::span<const std::uint8_t, 16> client) const;

    std::size_t entries() const { return size_; }
    std::size_t memory_bytes() const { return size_ * sizeof(Record); }

  private:
    struct Record {
        std::atomic<std::uint32_t> sequence{0};  // odd while a writer holds it
        std::atomic<std::uint32_t> tag{0};       // address hash | source; 0: empty
        std::atomic<std::uint64_t> receive{0};
        std::atomic<std::uint64_t> transmit{0};
    };

    std::size_t set_of(NtpTimestamp receive) const;
    std::uint32_t client_tag(std::span<const std::uint8_t, 16> client) const;
    static std::optional<std::uint32_t> lock(Record& record);
    static void unlock(Record& record, std::uint32_t sequence);

    std::uint64_t seed_;
    std::size_t size_;
    std::unique_ptr<Record[]> records_;
};

}  // namespace cloudtime::proto
