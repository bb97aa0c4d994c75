// SPDX-License-Identifier: Apache-2.0
// Log lines of one kind, at most a few per period: past that they are left out and counted, and
// the next line written says how many were left out before it. A flood of requests must not
// flood the journal.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace cloudtime {

class LineBudget {
  public:
    using Clock = std::chrono::steady_clock;
    LineBudget(std::uint64_t lines, Clock::duration period) : lines_(lines), period_(period) {}

    // Whether to write a line now: nullopt leaves it out (counted); otherwise how many were left
    // out since the last line written, for that line to say.
    std::optional<std::uint64_t> take(Clock::time_point now) {
        if (now - period_start_ >= period_) {
            period_start_ = now;
            written_ = 0;
        }
        if (written_ >= lines_) {
            ++left_out_;
            ++left_out_total_;
            return std::nullopt;
        }
        ++written_;
        const std::uint64_t told = left_out_;
        left_out_ = 0;
        return told;
    }

    std::uint64_t left_out_total() const { return left_out_total_; }

  private:
    std::uint64_t lines_;
    Clock::duration period_;
    Clock::time_point period_start_{};
    std::uint64_t written_ = 0;
    std::uint64_t left_out_ = 0;  // since the last line written
    std::uint64_t left_out_total_ = 0;
};

}  // namespace cloudtime
