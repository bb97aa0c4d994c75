// SPDX-License-Identifier: Apache-2.0
// Reading the system clock and the kernel's time state. Read-only: nothing here may change
// the clock or its discipline.
#pragma once

#include <ctime>

#include "proto/timestamp.hpp"
#include "util/expected.hpp"

namespace cloudtime::sys {

proto::UnixTime from_timespec(const timespec& ts);
proto::UnixTime realtime_now();

// The kernel's view of its synchronization (adjtimex with no modes set).
struct KernelTimeState {
    bool synchronized = false;  // STA_UNSYNC clear and the clock state not TIME_ERROR
    bool insert_leap = false;   // STA_INS
    bool delete_leap = false;   // STA_DEL
    double max_error_s = 0.0;   // maxerror: bound on the error, grows 500 ppm between updates
    double est_error_s = 0.0;   // esterror: estimated error
    int status = 0;             // raw status bits, for logs
};

Expected<KernelTimeState> read_kernel_time_state();

// The time read together with whether the kernel is inside an inserted leap second (TIME_OOP:
// the repeated 23:59:59), which the time alone cannot tell. A system call (adjtimex, read
// only): for the few seconds around a leap, never the ordinary hot path.
struct TimeWithLeapState {
    proto::UnixTime now;
    bool in_inserted_second = false;
};
TimeWithLeapState read_time_with_leap_state();

// Smallest step observed between consecutive clock reads, in seconds (the clock's precision
// in the sense of RFC 5905: what reading it costs and resolves).
double measure_clock_precision();

}  // namespace cloudtime::sys
