// SPDX-License-Identifier: Apache-2.0
// The clock keeper: what the workers are handed each second from a source that comes and goes,
// with the holdover and leap settings a reload may change, and the leap-seconds list.
#include "clock/clock_keeper.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <deque>
#include <fstream>
#include <string>

namespace cloudtime::server {
namespace {

constexpr std::int64_t kSec = 1'000'000'000;
// 2016-12-31T23:00:00Z: the last hour before the leap second of 2017-01-01.
const proto::UnixTime kLeapDay{1'483'225'200 * kSec};

proto::UnixTime at(std::int64_t seconds) {
    return proto::UnixTime{kLeapDay.ns + seconds * kSec};
}

// A source that answers what the test scripts, one snapshot per refresh (the last again
// when the script runs out).
class ScriptedSource final : public ClockSource {
  public:
    explicit ScriptedSource(std::deque<proto::ClockSnapshot>& script) : script_(script) {}
    proto::ClockSnapshot refresh(proto::UnixTime /*now*/) override {
        const proto::ClockSnapshot next = script_.front();
        if (script_.size() > 1) {
            script_.pop_front();
        }
        return next;
    }
    std::string describe() const override { return "scripted"; }

  private:
    std::deque<proto::ClockSnapshot>& script_;
};

proto::ClockSnapshot synced(proto::Leap leap = proto::Leap::none) {
    proto::ClockSnapshot s;
    s.synchronized = true;
    s.stratum = 3;
    s.refid = 0xC000'0201U;
    s.leap = leap;
    s.root_dispersion_s = 0.001;
    s.dispersion_epoch = kLeapDay;
    s.reference_time = kLeapDay;
    return s;
}

struct Keeper {
    std::deque<proto::ClockSnapshot> script;
    ClockKeeper keeper;
    explicit Keeper(ClockKeeperOptions options)
        : keeper(std::make_unique<ScriptedSource>(script), std::move(options)) {}
};

TEST(ClockKeeper, ALostSourceIsHeldOverThenServedAsUnsynchronized) {
    Keeper k({.holdover_s = 10});
    k.script = {synced(), proto::ClockSnapshot{}};
    EXPECT_TRUE(k.keeper.refresh(at(0)).synchronized);
    const proto::ClockSnapshot held = k.keeper.refresh(at(1));
    EXPECT_TRUE(held.synchronized);
    EXPECT_EQ(held.stratum, 3);
    EXPECT_TRUE(k.keeper.holding_over());
    EXPECT_TRUE(k.keeper.refresh(at(10)).synchronized);
    EXPECT_FALSE(k.keeper.refresh(at(12)).synchronized);
    EXPECT_FALSE(k.keeper.holding_over());
}

TEST(ClockKeeper, AReloadThatTakesTheHoldoverAwayServesTheNextLossAtOnce) {
    Keeper k({.holdover_s = 60});
    k.script = {synced(), synced(), proto::ClockSnapshot{}};
    EXPECT_TRUE(k.keeper.refresh(at(0)).synchronized);
    k.keeper.reconfigure({.holdover_s = 0});
    EXPECT_TRUE(k.keeper.refresh(at(1)).synchronized);
    EXPECT_FALSE(k.keeper.refresh(at(2)).synchronized);
    EXPECT_FALSE(k.keeper.holding_over());
}

TEST(ClockKeeper, AnUpstreamLeapIsPassedOnOrSmearedAway) {
    Keeper pass({.leap_mode = proto::LeapMode::pass});
    pass.script = {synced(proto::Leap::insert_second)};
    const proto::ClockSnapshot announced = pass.keeper.refresh(at(0));
    EXPECT_EQ(announced.leap, proto::Leap::insert_second);
    EXPECT_FALSE(announced.smear.active);

    // Google's window, noon to noon: 11 hours in, the leap is never announced.
    Keeper smear({.leap_mode = proto::LeapMode::smear});
    smear.script = {synced(proto::Leap::insert_second)};
    const proto::ClockSnapshot smeared = smear.keeper.refresh(at(0));
    EXPECT_EQ(smeared.leap, proto::Leap::none);
    EXPECT_TRUE(smeared.smear.active);

    // A reload back to pass: a new plan, the leap announced again.
    smear.keeper.reconfigure({.leap_mode = proto::LeapMode::pass});
    EXPECT_EQ(smear.keeper.refresh(at(1)).leap, proto::Leap::insert_second);
}

TEST(ClockKeeper, AnUnsynchronizedSourceGetsNoLeapPlan) {
    Keeper k({.leap_mode = proto::LeapMode::smear});
    proto::ClockSnapshot unsynchronized;
    unsynchronized.leap = proto::Leap::insert_second;
    k.script = {unsynchronized};
    const proto::ClockSnapshot served = k.keeper.refresh(at(0));
    EXPECT_FALSE(served.synchronized);
    EXPECT_FALSE(served.smear.active);
}

TEST(ClockKeeper, TheLeapSecondsListIsReadAndAMissingOneIsNone) {
    // IERS's list's tail (as in leap_seconds_test), expiring 2026-06-28.
    const std::string path = ::testing::TempDir() + "clock_keeper_leap_seconds.list";
    std::ofstream(path) << "#$\t3960835200\n#@\t3991593600\n"
                           "3644697600\t36\t# 1 Jul 2015\n3692217600\t37\t# 1 Jan 2017\n"
                           "#h\tae85f6f9 da6aaf74 c8eb0544 5e2ec81d ef95e0a4\n";
    Keeper k({.leap_seconds_file = path});
    k.script = {synced()};
    EXPECT_FALSE(k.keeper.leap_list_expiry());
    k.keeper.reload_leap_seconds(at(0));
    ASSERT_TRUE(k.keeper.leap_list_expiry());
    EXPECT_EQ(k.keeper.leap_list_expiry()->ns, 1'782'604'800 * kSec);
    ASSERT_EQ(std::remove(path.c_str()), 0);
    k.keeper.reload_leap_seconds(at(1));
    EXPECT_FALSE(k.keeper.leap_list_expiry());
}

}  // namespace
}  // namespace cloudtime::server
