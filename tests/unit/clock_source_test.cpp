// SPDX-License-Identifier: Apache-2.0

#include <gtest/gtest.h>

#include "clock/clock_source.hpp"

namespace cloudtime::server {
namespace {

const proto::UnixTime kNow{1'790'000'000LL * proto::kNanosPerSecond};

TEST(KernelSnapshot, SynchronizedKernelServesItsErrorBound) {
    sys::KernelTimeState k;
    k.synchronized = true;
    k.max_error_s = 0.0125;
    k.est_error_s = 0.0001;
    const auto s = snapshot_from_kernel(k, {3, 0xC0000201U, -23}, kNow, proto::UnixTime{5});
    EXPECT_TRUE(s.synchronized);
    EXPECT_EQ(s.stratum, 3);
    EXPECT_EQ(s.refid, 0xC0000201U);
    EXPECT_EQ(s.precision, -23);
    EXPECT_EQ(s.leap, proto::Leap::none);
    EXPECT_DOUBLE_EQ(s.root_dispersion_s, 0.0125);
    EXPECT_EQ(s.dispersion_epoch, kNow);
    EXPECT_EQ(s.reference_time, proto::UnixTime{5});
}

TEST(KernelSnapshot, UnsyncAndLeapBits) {
    sys::KernelTimeState k;
    k.synchronized = false;
    EXPECT_FALSE(snapshot_from_kernel(k, {}, kNow, kNow).synchronized);
    k.synchronized = true;
    k.insert_leap = true;
    EXPECT_EQ(snapshot_from_kernel(k, {}, kNow, kNow).leap, proto::Leap::insert_second);
    k.insert_leap = false;
    k.delete_leap = true;
    EXPECT_EQ(snapshot_from_kernel(k, {}, kNow, kNow).leap, proto::Leap::delete_second);
}

TEST(KernelClockSource, MatchesTheKernelOfThisMachine) {
    // Read-only: whatever this machine's state is, the source must report it faithfully.
    const auto kernel = sys::read_kernel_time_state();
    ASSERT_TRUE(kernel) << kernel.error();
    KernelClockSource source({4, 0x7F000001U, -20});
    const auto s = source.refresh(kNow);
    EXPECT_EQ(s.synchronized, kernel->synchronized);
    EXPECT_EQ(s.stratum, 4);
}

TEST(LocalClockSource, AlwaysSynchronized) {
    LocalClockSource source({9, 0x4C4F434CU, -20});
    const auto s = source.refresh(kNow);
    EXPECT_TRUE(s.synchronized);
    EXPECT_EQ(s.stratum, 9);
    EXPECT_EQ(s.refid, 0x4C4F434CU);
    EXPECT_EQ(s.reference_time, kNow);
    EXPECT_LE(s.reference_time, kNow);
}

}  // namespace
}  // namespace cloudtime::server
