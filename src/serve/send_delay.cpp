// SPDX-License-Identifier: Apache-2.0
#include "serve/send_delay.hpp"

#include <algorithm>

namespace cloudtime::server {

void RunningMedian::add(std::int64_t sample) {
    window_[taken_ % kWindow] = sample;
    ++taken_;
    const std::size_t n = std::min(taken_, kWindow);
    if (n < kMinSamples) {
        return;
    }
    std::array<std::int64_t, kWindow> sorted = window_;
    const auto middle = sorted.begin() + static_cast<std::ptrdiff_t>(n / 2);
    std::nth_element(sorted.begin(), middle, sorted.begin() + static_cast<std::ptrdiff_t>(n));
    value_ = *middle;
}

void SendDelay::add(std::int64_t delay_ns, std::size_t position) {
    if (position == 0) {
        base_.add(delay_ns);
    } else if (base_.value() != 0) {
        per_reply_.add(std::max<std::int64_t>(
            0, (delay_ns - base_.value()) / static_cast<std::int64_t>(position)));
    }
}

}  // namespace cloudtime::server
