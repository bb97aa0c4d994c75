// SPDX-License-Identifier: Apache-2.0
// How long a reply takes from the worker's clock reading to the kernel's transmit stamp: the
// system call and the network stack, a few microseconds, plus, in a batch sent with one
// sendmmsg, the time the kernel spends on the replies before it. Measured on this host from
// the kernel stamps of sent replies (a reply sent alone gives the base; the last reply of a
// batch, the cost of each one before it) and added to the transmit time a basic reply
// carries, which then says when the reply left rather than when its time was read. Running
// medians of the last samples, so that an interrupt or a preemption between reading and
// sending does not move them. One per worker.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace cloudtime::server {

// The running median of the last kWindow samples; 0 until kMinSamples were taken.
class RunningMedian {
  public:
    void add(std::int64_t sample);
    std::int64_t value() const { return value_; }

    static constexpr std::size_t kWindow = 31;
    static constexpr std::size_t kMinSamples = 7;

  private:
    std::array<std::int64_t, kWindow> window_{};
    std::size_t taken_ = 0;
    std::int64_t value_ = 0;
};

class SendDelay {
  public:
    // The stamp of a reply at `position` in its send (0: first, or sent alone) came
    // `delay_ns` after its clock reading.
    void add(std::int64_t delay_ns, std::size_t position);
    // What to add to the reading of the reply at `position`.
    std::int64_t estimate_ns(std::size_t position) const {
        return base_.value() + static_cast<std::int64_t>(position) * per_reply_.value();
    }

  private:
    RunningMedian base_;       // a reply sent alone
    RunningMedian per_reply_;  // each reply sent before it in the same sendmmsg
};

}  // namespace cloudtime::server
