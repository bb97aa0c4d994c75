// SPDX-License-Identifier: Apache-2.0
// Hands the latest clock snapshot from the one thread that refreshes it to every worker
// without locks: a sequence lock over word-sized atomics, so readers never block the writer
// and there is no data race for sanitizers to report.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>

#include "proto/clock_snapshot.hpp"

namespace cloudtime::server {

class SnapshotCell {
  public:
    void publish(const proto::ClockSnapshot& snapshot) {
        Words words{};
        std::memcpy(words.data(), &snapshot, sizeof(snapshot));
        const std::uint64_t seq = sequence_.load(std::memory_order_relaxed);
        sequence_.store(seq + 1, std::memory_order_relaxed);  // odd: a write is under way
        std::atomic_thread_fence(std::memory_order_release);
        for (std::size_t i = 0; i < kWords; ++i) {
            words_[i].store(words[i], std::memory_order_relaxed);
        }
        sequence_.store(seq + 2, std::memory_order_release);
    }

    proto::ClockSnapshot load() const {
        Words words{};
        for (;;) {
            const std::uint64_t before = sequence_.load(std::memory_order_acquire);
            if ((before & 1U) != 0) {
                continue;
            }
            for (std::size_t i = 0; i < kWords; ++i) {
                words[i] = words_[i].load(std::memory_order_relaxed);
            }
            std::atomic_thread_fence(std::memory_order_acquire);
            if (sequence_.load(std::memory_order_relaxed) == before) {
                break;
            }
        }
        proto::ClockSnapshot snapshot;
        std::memcpy(static_cast<void*>(&snapshot), words.data(), sizeof(snapshot));
        return snapshot;
    }

  private:
    static constexpr std::size_t kWords = (sizeof(proto::ClockSnapshot) + 7) / 8;
    using Words = std::array<std::uint64_t, kWords>;
    std::atomic<std::uint64_t> sequence_{0};
    std::array<std::atomic<std::uint64_t>, kWords> words_{};
};

}  // namespace cloudtime::server
