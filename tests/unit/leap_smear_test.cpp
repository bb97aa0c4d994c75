// SPDX-License-Identifier: Apache-2.0
#include "proto/leap_smear.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace cloudtime::proto {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kLeap = 1'483'228'800;  // 2017-01-01T00:00:00Z, after 2016-12-31T23:59:60

UnixTime at(double seconds) {
    return UnixTime{std::llround(seconds * 1e9)};
}

// What the system clock reads at true time `tau` (SI seconds since the window opened), and
// whether the kernel has stepped over the leap yet, as Linux does it: an inserted second
// repeats 23:59:59 (TIME_OOP); a deleted one skips it.
struct Reading {
    UnixTime posix;
    bool stepped;
};
Reading kernel_clock(const SmearWindow& w, std::int64_t tau_ns) {
    const std::int64_t start = w.start().ns;
    const std::int64_t before_leap = w.start_before_s * kSecond;
    if (w.direction > 0) {
        if (tau_ns < before_leap) {
            return {UnixTime{start + tau_ns}, false};
        }
        return {UnixTime{start + tau_ns - kSecond}, true};
    }
    if (tau_ns < before_leap - kSecond) {
        return {UnixTime{start + tau_ns}, false};
    }
    return {UnixTime{start + tau_ns + kSecond}, true};
}

// UTC at true time `tau`, counted like POSIX time but continuous: the leap's own second maps
// to [L - 1, L) again for an insert (what a reader of UTC without a "60" would write).
double utc_seconds(const SmearWindow& w, std::int64_t tau_ns) {
    const double start = static_cast<double>(w.start().ns) / 1e9;
    const double tau = static_cast<double>(tau_ns) / 1e9;
    const double before = static_cast<double>(w.start_before_s);
    if (w.direction > 0) {
        return tau < before ? start + tau : tau < before + 1 ? start + before : start + tau - 1;
    }
    return tau < before - 1 ? start + tau : start + tau + 1;
}

void walk_through_leap(int direction, SmearShape shape) {
    const SmearWindow w = make_smear_window(
        LeapEvent{UnixTime{kLeap * kSecond}, direction},
        SmearPolicy{.shape = shape, .duration_s = 86'400, .start_before_s = 43'200});
    const std::int64_t true_length = (86'400 + direction) * kSecond;
    std::int64_t previous = std::numeric_limits<std::int64_t>::min();
    double worst = 0.0;
    // Coarse steps across the whole window, fine ones around the leap and both edges.
    std::vector<std::int64_t> taus;
    for (std::int64_t t = -60 * kSecond; t <= true_length + 60 * kSecond; t += 7 * kSecond) {
        taus.push_back(t);
    }
    for (const std::int64_t centre : {std::int64_t{0}, 43'200 * kSecond, true_length}) {
        for (std::int64_t t = centre - 3 * kSecond; t <= centre + 3 * kSecond; t += kSecond / 64) {
            taus.push_back(t);
        }
    }
    std::sort(taus.begin(), taus.end());
    taus.erase(std::unique(taus.begin(), taus.end()), taus.end());
    for (const std::int64_t tau : taus) {
        const Reading r = kernel_clock(w, tau);
        const UnixTime served = smear(w, r.posix, r.stepped);
        ASSERT_GT(served.ns, previous) << "served time went back at tau " << tau;
        previous = served.ns;
        const double error = static_cast<double>(served.ns) / 1e9 - utc_seconds(w, tau);
        worst = std::max(worst, std::abs(error));
        ASSERT_LE(std::abs(error), 1.0 + 1e-9) << "tau " << tau;
        if (tau < 0 || tau >= true_length) {
            ASSERT_EQ(served.ns, r.posix.ns) << "outside the window the clock is served as is";
        }
    }
    EXPECT_GT(worst, 0.49);  // the smear does move time by up to a second
    // The linear smear's rate is 1/86401 (11.57 ppm) slower (or 1/86399 faster).
    if (shape == SmearShape::linear) {
        const UnixTime a = smear(w, kernel_clock(w, 1000 * kSecond).posix, false);
        const UnixTime b = smear(w, kernel_clock(w, 11'000 * kSecond).posix, false);
        const double rate = static_cast<double>(b.ns - a.ns) / 1e9 / 10'000.0 - 1.0;
        EXPECT_NEAR(rate * 1e6, -direction * 1e6 / (86'400.0 + direction), 0.01);
    }
}

TEST(LeapSmear, LinearAcrossAnInsertedSecond) {
    walk_through_leap(+1, SmearShape::linear);
}
TEST(LeapSmear, LinearAcrossADeletedSecond) {
    walk_through_leap(-1, SmearShape::linear);
}
TEST(LeapSmear, CosineAcrossAnInsertedSecond) {
    walk_through_leap(+1, SmearShape::cosine);
}
TEST(LeapSmear, CosineAcrossADeletedSecond) {
    walk_through_leap(-1, SmearShape::cosine);
}

TEST(LeapSmear, HalfASecondBehindAtTheLeapWithGooglesShape) {
    const SmearWindow w = make_smear_window(LeapEvent{UnixTime{kLeap * kSecond}, 1}, {});
    // At 23:59:59.000 (first pass) the true elapsed time is 43199 s of 86401.
    const UnixTime served = smear(w, at(kLeap - 1), false);
    EXPECT_NEAR(static_cast<double>(served.ns) / 1e9 - (kLeap - 1), -43'199.0 / 86'401.0, 1e-6);
}

TEST(LeapSmear, InactiveWindowServesTheClock) {
    SmearWindow w;
    EXPECT_EQ(smear(w, at(kLeap), true).ns, at(kLeap).ns);
}

TEST(LeapSmear, ReceiveTimestampsInTheRepeatedSecond) {
    const SmearWindow w = make_smear_window(LeapEvent{UnixTime{kLeap * kSecond}, 1}, {});
    const UnixTime first_pass = at(kLeap - 0.0001);       // 23:59:59.9999 before the step
    const UnixTime now_after_step = at(kLeap - 0.99995);  // 23:59:60.00005 (reads :59.00005)
    EXPECT_FALSE(stepped_at(w, first_pass, now_after_step, true));
    EXPECT_TRUE(stepped_at(w, at(kLeap - 0.99999), now_after_step, true));
    EXPECT_FALSE(stepped_at(w, at(kLeap - 0.5), at(kLeap - 0.4), false));
    EXPECT_TRUE(stepped_at(w, at(kLeap - 0.0001), at(kLeap + 0.0001), true));
    EXPECT_TRUE(stepped_at(w, at(kLeap + 1), at(kLeap + 1), true));
    EXPECT_FALSE(stepped_at(w, at(kLeap - 2), at(kLeap - 0.5), true));
}

LeapSchedule schedule_with_leap_at(std::int64_t leap, int direction, std::int64_t expires) {
    LeapSchedule s;
    s.entries = {{UnixTime{(leap - 400 * 86'400) * kSecond}, 37},
                 {UnixTime{leap * kSecond}, 37 + direction}};
    s.expires = UnixTime{expires * kSecond};
    return s;
}

TEST(LeapPlanner, PassAnnouncesWhatTheUpstreamAnnounces) {
    LeapPlanner planner(LeapMode::pass, {});
    const auto list = schedule_with_leap_at(kLeap, 1, kLeap + 86'400 * 100);
    const LeapPlan plan = planner.plan(at(kLeap - 3600), Leap::insert_second, &list);
    EXPECT_EQ(plan.announce, Leap::insert_second);
    EXPECT_FALSE(plan.smear.active);
    EXPECT_TRUE(plan.warning.empty()) << plan.warning;
    EXPECT_EQ(planner.plan(at(kLeap + 1), Leap::none, &list).announce, Leap::none);
}

TEST(LeapPlanner, DisagreementIsWarnedOnce) {
    LeapPlanner planner(LeapMode::pass, {});
    const auto list = schedule_with_leap_at(kLeap, 1, kLeap + 86'400 * 100);
    const LeapPlan plan = planner.plan(at(kLeap - 3600), Leap::none, &list);
    EXPECT_EQ(plan.announce, Leap::none);  // the system clock will not step: do not announce
    EXPECT_NE(plan.warning.find("does not announce"), std::string::npos) << plan.warning;
    EXPECT_TRUE(planner.plan(at(kLeap - 3599), Leap::none, &list).warning.empty());
    // The upstream announcing a leap the list does not hold.
    LeapPlanner other(LeapMode::pass, {});
    const auto later = schedule_with_leap_at(kLeap + 86'400 * 181, 1, kLeap + 86'400 * 300);
    const LeapPlan unknown = other.plan(at(kLeap - 3600), Leap::insert_second, &later);
    EXPECT_EQ(unknown.announce, Leap::insert_second);
    EXPECT_NE(unknown.warning.find("does not hold"), std::string::npos) << unknown.warning;
}

TEST(LeapPlanner, SmearFollowsTheUpstreamThroughTheWholeWindow) {
    LeapPlanner planner(LeapMode::smear, {});
    // Before noon on the last day: nothing yet.
    EXPECT_FALSE(planner.plan(at(kLeap - 50'000), Leap::insert_second, nullptr).smear.active);
    const LeapPlan during = planner.plan(at(kLeap - 43'000), Leap::insert_second, nullptr);
    EXPECT_TRUE(during.smear.active);
    EXPECT_EQ(during.announce, Leap::none);  // a smearing server does not announce
    EXPECT_EQ(during.smear.leap_at.ns, kLeap * kSecond);
    // After the leap the upstream says nothing more; the smear goes on until noon.
    EXPECT_TRUE(planner.plan(at(kLeap + 40'000), Leap::none, nullptr).smear.active);
    EXPECT_FALSE(planner.plan(at(kLeap + 43'200), Leap::none, nullptr).smear.active);
}

TEST(LeapPlanner, ListOpensAWindowThatStartsBeforeTheUpstreamsDay) {
    LeapPlanner planner(
        LeapMode::smear,
        {.shape = SmearShape::linear, .duration_s = 2 * 86'400, .start_before_s = 86'400 + 3600});
    const auto list = schedule_with_leap_at(kLeap, -1, kLeap + 86'400 * 100);
    const LeapPlan plan = planner.plan(at(kLeap - 86'400 - 1800), Leap::none, &list);
    EXPECT_TRUE(plan.smear.active);
    EXPECT_EQ(plan.smear.direction, -1);
}

TEST(LeapPlanner, ExpiredListIsNotUsed) {
    LeapPlanner planner(LeapMode::smear, {});
    const auto list = schedule_with_leap_at(kLeap, 1, kLeap - 86'400 * 10);
    const LeapPlan plan = planner.plan(at(kLeap - 3600), Leap::none, &list);
    EXPECT_FALSE(plan.smear.active);
    EXPECT_TRUE(plan.warning.empty());
}

}  // namespace
}  // namespace cloudtime::proto
