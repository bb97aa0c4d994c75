// SPDX-License-Identifier: Apache-2.0
#include "sys/clock.hpp"

#include <sys/timex.h>

#include <algorithm>
#include <cerrno>
#include <limits>

#include "sys/fd.hpp"

namespace cloudtime::sys {

proto::UnixTime from_timespec(const timespec& ts) {
    return proto::UnixTime{static_cast<std::int64_t>(ts.tv_sec) * proto::kNanosPerSecond +
                           ts.tv_nsec};
}

proto::UnixTime realtime_now() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return from_timespec(ts);
}

Expected<KernelTimeState> read_kernel_time_state() {
    timex tx{};
    tx.modes = 0;  // read only: never change the kernel's time state
    const int state = ::adjtimex(&tx);
    if (state < 0) {
        return os_error("adjtimex");
    }
    KernelTimeState k;
    k.status = tx.status;
    k.synchronized = (tx.status & STA_UNSYNC) == 0 && state != TIME_ERROR;
    k.insert_leap = (tx.status & STA_INS) != 0;
    k.delete_leap = (tx.status & STA_DEL) != 0;
    k.max_error_s = static_cast<double>(tx.maxerror) / 1e6;
    k.est_error_s = static_cast<double>(tx.esterror) / 1e6;
    return k;
}

TimeWithLeapState read_time_with_leap_state() {
    timex tx{};
    tx.modes = 0;
    const int state = ::adjtimex(&tx);
    if (state < 0) {
        return {realtime_now(), false};
    }
    const std::int64_t sub_second =
        (tx.status & STA_NANO) != 0 ? tx.time.tv_usec : std::int64_t{tx.time.tv_usec} * 1000;
    return {proto::UnixTime{std::int64_t{tx.time.tv_sec} * 1'000'000'000 + sub_second},
            state == TIME_OOP};
}

double measure_clock_precision() {
    std::int64_t smallest = std::numeric_limits<std::int64_t>::max();
    proto::UnixTime previous = realtime_now();
    for (int i = 0; i < 100; ++i) {
        const proto::UnixTime now = realtime_now();
        if (now.ns > previous.ns) {
            smallest = std::min(smallest, now.ns - previous.ns);
        }
        previous = now;
    }
    if (smallest == std::numeric_limits<std::int64_t>::max()) {
        smallest = 1000;  // the clock never advanced within the loop: a microsecond clock
    }
    return static_cast<double>(smallest) / 1e9;
}

}  // namespace cloudtime::sys
