// SPDX-License-Identifier: Apache-2.0
// The holdover state machine: what is served as the source of truth comes and goes.
#include "proto/holdover.hpp"

#include <gtest/gtest.h>

namespace cloudtime::proto {
namespace {

constexpr std::int64_t kSec = kNanosPerSecond;
const UnixTime kStart{1'790'000'000 * kSec};

UnixTime at(double seconds) {
    return UnixTime{kStart.ns + static_cast<std::int64_t>(seconds * 1e9)};
}

ClockSnapshot synced(double seconds, std::uint32_t refid = 0xC000'0201U) {
    ClockSnapshot s;
    s.synchronized = true;
    s.stratum = 3;
    s.refid = refid;
    s.root_dispersion_s = 0.001;
    s.dispersion_epoch = at(seconds);
    s.reference_time = at(seconds);
    return s;
}

ClockSnapshot lost() {
    return ClockSnapshot{};  // unsynchronized
}

ClockSnapshot interrupted() {
    ClockSnapshot s;  // unsynchronized, because the source is restarting
    s.source_interrupted = true;
    return s;
}

TEST(Holdover, AnInterruptedSourceIsHeldOverForTheRestartGraceEvenWithoutHoldover) {
    Holdover h(0, 30);
    h.update(synced(0), at(0));
    auto step = h.update(interrupted(), at(1));  // chronyd's socket is gone
    EXPECT_TRUE(step.served.synchronized);
    EXPECT_EQ(step.event, HoldoverEvent::started);
    EXPECT_DOUBLE_EQ(h.allowed_s(), 30);
    step = h.update(interrupted(), at(2));  // back, not synchronized yet
    EXPECT_TRUE(step.served.synchronized);
    step = h.update(synced(3), at(3));
    EXPECT_EQ(step.event, HoldoverEvent::ended);
    // Gone for longer than the grace: LI=3 once it is over, not before.
    h.update(interrupted(), at(4));
    EXPECT_TRUE(h.update(interrupted(), at(33)).served.synchronized);
    step = h.update(interrupted(), at(33.5));
    EXPECT_FALSE(step.served.synchronized);
    EXPECT_EQ(step.event, HoldoverEvent::exhausted);
}

TEST(Holdover, ARealLossOfSynchronizationGetsNoRestartGrace) {
    Holdover h(0, 30);
    h.update(synced(0), at(0));
    const auto step = h.update(lost(), at(1));  // chronyd answers: not synchronized
    EXPECT_FALSE(step.served.synchronized);
    EXPECT_EQ(step.event, HoldoverEvent::none);
    // The allowance is fixed when the loss begins: a later restart does not extend it.
    Holdover g(5, 30);
    g.update(synced(0), at(0));
    g.update(lost(), at(1));
    EXPECT_DOUBLE_EQ(g.allowed_s(), 5);
    EXPECT_FALSE(g.update(interrupted(), at(6)).served.synchronized);
}

TEST(Holdover, SynchronizedPassesThrough) {
    Holdover h(60);
    const auto step = h.update(synced(0), at(0));
    EXPECT_TRUE(step.served.synchronized);
    EXPECT_EQ(step.event, HoldoverEvent::none);
    EXPECT_FALSE(h.active());
}

TEST(Holdover, LossServesTheLastStateThenEndsWhenTheSourceIsBack) {
    Holdover h(60);
    h.update(synced(0), at(0));
    h.update(synced(1, 0x0A00'0001U), at(1));  // the last good state is the newest
    auto step = h.update(lost(), at(2));
    EXPECT_EQ(step.event, HoldoverEvent::started);
    EXPECT_TRUE(h.active());
    EXPECT_TRUE(step.served.synchronized);
    EXPECT_EQ(step.served.refid, 0x0A00'0001U);
    // The served state keeps its epoch: its dispersion grows with the time since.
    EXPECT_EQ(step.served.dispersion_epoch, at(1));
    EXPECT_DOUBLE_EQ(root_dispersion_at(step.served, at(31)), 0.001 + 30 * kDispersionRate);
    step = h.update(lost(), at(30));
    EXPECT_EQ(step.event, HoldoverEvent::none);  // said once
    EXPECT_TRUE(step.served.synchronized);
    step = h.update(synced(31), at(31));
    EXPECT_EQ(step.event, HoldoverEvent::ended);
    EXPECT_FALSE(h.active());
    EXPECT_EQ(step.served.dispersion_epoch, at(31));
}

TEST(Holdover, ExhaustedAfterItsTimeThenUnsynchronized) {
    Holdover h(60);
    h.update(synced(0), at(0));
    EXPECT_EQ(h.update(lost(), at(1)).event, HoldoverEvent::started);
    EXPECT_TRUE(h.update(lost(), at(60)).served.synchronized);  // 60 s: still within
    auto step = h.update(lost(), at(60.5));
    EXPECT_EQ(step.event, HoldoverEvent::exhausted);
    EXPECT_FALSE(step.served.synchronized);
    EXPECT_FALSE(h.active());
    step = h.update(lost(), at(61));
    EXPECT_EQ(step.event, HoldoverEvent::none);  // said once
    EXPECT_FALSE(step.served.synchronized);
    // Back, then lost again: a new holdover from the new last good state.
    EXPECT_EQ(h.update(synced(100), at(100)).event, HoldoverEvent::none);
    EXPECT_EQ(h.update(lost(), at(101)).event, HoldoverEvent::started);
}

TEST(Holdover, NoneConfiguredOrNothingGoodYetMeansUnsynchronizedAtOnce) {
    Holdover off(0);
    off.update(synced(0), at(0));
    auto step = off.update(lost(), at(1));
    EXPECT_FALSE(step.served.synchronized);
    EXPECT_EQ(step.event, HoldoverEvent::none);
    Holdover fresh(60);
    step = fresh.update(lost(), at(0));
    EXPECT_FALSE(step.served.synchronized);
    EXPECT_EQ(step.event, HoldoverEvent::none);
    EXPECT_FALSE(fresh.active());
}

}  // namespace
}  // namespace cloudtime::proto
