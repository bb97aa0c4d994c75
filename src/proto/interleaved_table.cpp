// SPDX-License-Identifier: Apache-2.0
#include "proto/interleaved_table.hpp"

#include <algorithm>
#include <bit>
#include <limits>

#include "proto/hash_mix.hpp"
#include "proto/packet.hpp"

namespace cloudtime::proto {

namespace {
constexpr std::size_t kWays = 4;
constexpr std::uint32_t kSourceMask = 0x3U;

// How long ago, in NTP fraction units, a record was made; empty records are the oldest.
std::uint64_t age_of(std::uint64_t receive, std::uint64_t newest) {
    if (receive == 0) {
        return std::numeric_limits<std::uint64_t>::max();
    }
    return newest >= receive ? newest - receive : 0;  // another worker's, a moment newer
}
}  // namespace

const char* transmit_source_name(TransmitSource source) {
    switch (source) {
        case TransmitSource::daemon:
            return "daemon";
        case TransmitSource::kernel:
            return "kernel";
    }
    return "unknown";
}

InterleavedTable::InterleavedTable(std::size_t entries, std::uint64_t seed)
    : seed_(seed),
      size_(std::bit_ceil(std::max<std::size_t>(entries, kWays))),
      records_(std::make_unique<Record[]>(size_)) {}

std::size_t InterleavedTable::set_of(NtpTimestamp receive) const {
    return static_cast<std::size_t>(mix64(receive.raw ^ seed_)) & (size_ - kWays);
}

std::uint32_t InterleavedTable::client_tag(std::span<const std::uint8_t, 16> client) const {
    const std::uint64_t h = mix64(mix64(load_u64(client.first<8>()) ^ seed_) ^
                                  load_u64(client.last<8>()) ^ (seed_ >> 11U));
    // Never 0 (empty): the low bits carry the source.
    return (static_cast<std::uint32_t>(h >> 32U) | 0x4U) & ~kSourceMask;
}

std::optional<std::uint32_t> InterleavedTable::lock(Record& record) {
    std::uint32_t sequence = record.sequence.load(std::memory_order_relaxed);
    if ((sequence & 1U) != 0 || !record.sequence.compare_exchange_strong(
                                    sequence, sequence + 1, std::memory_order_acquire)) {
        return std::nullopt;  // another worker is writing it: given up, not waited for
    }
    return sequence;
}

void InterleavedTable::unlock(Record& record, std::uint32_t sequence) {
    record.sequence.store(sequence + 2, std::memory_order_release);
}

void InterleavedTable::remember(NtpTimestamp receive, std::span<const std::uint8_t, 16> client,
                                NtpTimestamp transmit) {
    if (receive.is_zero()) {
        return;  // 0 marks an empty record, and no client could name it
    }
    const std::size_t base = set_of(receive);
    // The way whose record is oldest (receive timestamps only grow, modulo the era).
    std::size_t victim = base;
    std::uint64_t oldest = 0;
    for (std::size_t w = 0; w < kWays; ++w) {
        const std::uint64_t age =
            age_of(records_[base + w].receive.load(std::memory_order_relaxed), receive.raw);
        if (age >= oldest) {
            oldest = age;
            victim = base + w;
        }
    }
    Record& record = records_[victim];
    const auto sequence = lock(record);
    if (!sequence) {
        return;  // this reply's record is lost: its client falls back to basic mode once
    }
    record.tag.store(client_tag(client) | static_cast<std::uint32_t>(TransmitSource::daemon),
                     std::memory_order_relaxed);
    record.receive.store(receive.raw, std::memory_order_relaxed);
    record.transmit.store(transmit.raw, std::memory_order_relaxed);
    unlock(record, *sequence);
}

std::optional<TransmitRecord> InterleavedTable::find(
    NtpTimestamp receive, std::span<const std::uint8_t, 16> client) const {
    if (receive.is_zero()) {
        return std::nullopt;
    }
    const std::size_t base = set_of(receive);
    const std::uint32_t wanted = client_tag(client);
    for (std::size_t w = 0; w < kWays; ++w) {
        const Record& record = records_[base + w];
        const std::uint32_t before = record.sequence.load(std::memory_order_acquire);
        if ((before & 1U) != 0 || record.receive.load(std::memory_order_relaxed) != receive.raw) {
            continue;
        }
        const std::uint32_t tag = record.tag.load(std::memory_order_relaxed);
        const std::uint64_t transmit = record.transmit.load(std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (record.sequence.load(std::memory_order_relaxed) != before ||
            (tag & ~kSourceMask) != wanted) {
            return std::nullopt;  // rewritten meanwhile, or another client's
        }
        return TransmitRecord{NtpTimestamp{transmit},
                              static_cast<TransmitSource>(tag & kSourceMask)};
    }
    return std::nullopt;
}

bool InterleavedTable::refine(NtpTimestamp receive, std::span<const std::uint8_t, 16> client,
                              TransmitRecord better) {
    if (receive.is_zero()) {
        return false;
    }
    const std::size_t base = set_of(receive);
    const std::uint32_t tag = client_tag(client);
    for (std::size_t w = 0; w < kWays; ++w) {
        Record& record = records_[base + w];
        if (record.receive.load(std::memory_order_relaxed) != receive.raw ||
            (record.tag.load(std::memory_order_relaxed) & ~kSourceMask) != tag) {
            continue;
        }
        const auto sequence = lock(record);
        if (!sequence) {
            return false;
        }
        // Checked again under the lock: another writer may have taken this way meanwhile.
        const bool same = record.receive.load(std::memory_order_relaxed) == receive.raw &&
                          (record.tag.load(std::memory_order_relaxed) & ~kSourceMask) == tag;
        if (same) {
            record.tag.store(tag | static_cast<std::uint32_t>(better.source),
                             std::memory_order_relaxed);
            record.transmit.store(better.transmit.raw, std::memory_order_relaxed);
        }
        unlock(record, *sequence);
        return same;
    }
    return false;
}

}  // namespace cloudtime::proto
