// SPDX-License-Identifier: Apache-2.0
#include "check/host_check.hpp"

#include <gtest/gtest.h>

#include <cerrno>

#include "check_results.hpp"

namespace cloudtime::check {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
const proto::UnixTime kNow{1'790'000'000 * kSecond};

HostFacts healthy() {
    HostFacts f;
    f.now = kNow;
    sys::KernelTimeState k;
    k.synchronized = true;
    k.max_error_s = 0.002;
    f.kernel = k;
    f.chrony_socket = "/run/chrony/chronyd.sock";
    f.chrony_socket_seen = Done{};
    proto::ChronyTracking t;
    t.stratum = 2;
    t.leap = proto::ChronyLeap::normal;
    t.ref_time = proto::UnixTime{kNow.ns - 30 * kSecond};
    t.current_correction_s = 20e-6;
    t.root_delay_s = 0.002;
    t.root_dispersion_s = 0.001;
    f.chrony = t;
    f.clocksource = std::string("tsc");
    f.kvm = true;
    proto::LeapSchedule list;
    list.entries = {{proto::UnixTime{1'483'228'800 * kSecond}, 37}};
    list.expires = proto::UnixTime{kNow.ns + 100 * 86'400 * kSecond};
    f.leap_seconds_file = "leap-seconds.list";
    f.leap_seconds = list;
    return f;
}

TEST(HostCheck, HealthyHostPassesAndSkipsWhatIsNotConfigured) {
    const auto results = evaluate_host(healthy(), {});
    ASSERT_EQ(results.size(), 7U);
    for (const auto& r : results) {
        if (r.id == "cloudtimed-answers") {
            EXPECT_EQ(r.verdict, Verdict::skip);
        } else {
            EXPECT_EQ(r.verdict, Verdict::pass) << r.id << ": " << r.reason;
        }
    }
    EXPECT_EQ(exit_code(results), 0);
}

TEST(HostCheck, UnsynchronizedKernelFails) {
    HostFacts f = healthy();
    f.kernel->synchronized = false;
    const auto results = evaluate_host(f, {});
    EXPECT_EQ(verdict_of(results, "kernel-clock-synchronized"), Verdict::fail);
    EXPECT_EQ(exit_code(results), 1);
}

TEST(HostCheck, ChronyOffsetWarnsThenFails) {
    HostFacts f = healthy();
    f.chrony->current_correction_s = -0.004;
    EXPECT_EQ(verdict_of(evaluate_host(f, {}), "chrony-synchronized"), Verdict::warn);
    EXPECT_EQ(exit_code(evaluate_host(f, {})), 0);  // a warning is not a failure
    f.chrony->current_correction_s = 0.2;
    EXPECT_EQ(verdict_of(evaluate_host(f, {}), "chrony-synchronized"), Verdict::fail);
    f.chrony->current_correction_s = 0.0;
    f.chrony->root_dispersion_s = 2.0;  // root distance beyond a second
    EXPECT_EQ(verdict_of(evaluate_host(f, {}), "chrony-synchronized"), Verdict::fail);
}

TEST(HostCheck, ChronyUnsynchronizedOrSilentFails) {
    HostFacts f = healthy();
    f.chrony->leap = proto::ChronyLeap::unsynchronized;
    auto results = evaluate_host(f, {});
    EXPECT_EQ(verdict_of(results, "chrony-synchronized"), Verdict::fail);
    EXPECT_EQ(verdict_of(results, "leap-status"), Verdict::fail);
    f = healthy();
    f.chrony = Error{"no reply within 1000 ms"};
    EXPECT_EQ(verdict_of(evaluate_host(f, {}), "chrony-synchronized"), Verdict::fail);
}

TEST(HostCheck, NoPermissionIsAnAbortNotAFailure) {
    HostFacts f = healthy();
    f.chrony = Error{"bind /run/chrony/cloudtime.1.0.sock: Permission denied", EACCES};
    const auto results = evaluate_host(f, {});
    EXPECT_EQ(verdict_of(results, "chrony-synchronized"), Verdict::abort);
    EXPECT_EQ(exit_code(results), 2);
}

TEST(HostCheck, SocketNotVisibleIsSkipWhenAbsentAndAbortWhenNotAllowed) {
    HostFacts f = healthy();
    f.chrony_socket_seen = Error{"/run/chrony/chronyd.sock: No such file or directory", ENOENT};
    EXPECT_EQ(verdict_of(evaluate_host(f, {}), "chrony-synchronized"), Verdict::skip);
    f.chrony_socket_seen = Error{"/run/chrony/chronyd.sock: Permission denied", EACCES};
    const auto results = evaluate_host(f, {});
    EXPECT_EQ(verdict_of(results, "chrony-synchronized"), Verdict::abort);
    EXPECT_EQ(exit_code(results), 2);
}

TEST(HostCheck, PermissionIsDecidedByTheCodeNotTheText) {
    HostFacts f = healthy();
    // chronyd's own words may say anything; only the kernel's EACCES/EPERM means "no permission".
    f.chrony = Error{"chronyd replied: Permission denied"};
    EXPECT_EQ(verdict_of(evaluate_host(f, {}), "chrony-synchronized"), Verdict::fail);
    f.chrony = Error{"connect /run/chrony/chronyd.sock: Operation not permitted", EPERM};
    EXPECT_EQ(verdict_of(evaluate_host(f, {}), "chrony-synchronized"), Verdict::abort);
}

TEST(HostCheck, ClocksourceKvmAndLeapList) {
    HostFacts f = healthy();
    f.clocksource = std::string("kvm-clock");
    f.kvm = false;
    f.leap_seconds = Error{"the SHA-1 hash does not match the contents"};
    const auto results = evaluate_host(f, {});
    EXPECT_EQ(verdict_of(results, "clocksource-tsc"), Verdict::fail);
    EXPECT_EQ(verdict_of(results, "kvm-present"), Verdict::fail);
    EXPECT_EQ(verdict_of(results, "leap-seconds-list"), Verdict::fail);
}

TEST(HostCheck, ExpiredLeapListWarns) {
    HostFacts f = healthy();
    f.leap_seconds->expires = proto::UnixTime{kNow.ns - 10 * 86'400 * kSecond};
    const auto results = evaluate_host(f, {});
    EXPECT_EQ(verdict_of(results, "leap-seconds-list"), Verdict::warn);
    EXPECT_EQ(exit_code(results), 0);
}

TEST(HostCheck, CloudtimedUnsynchronizedFails) {
    HostFacts f = healthy();
    f.cloudtimed_target = "127.0.0.1:123";
    client::QueryResult q;
    q.sent = 1;
    q.rejection = client::Rejection{};
    q.rejection->header.leap = proto::Leap::unsynchronized;
    f.cloudtimed = q;
    EXPECT_EQ(verdict_of(evaluate_host(f, {}), "cloudtimed-answers"), Verdict::fail);
    f.cloudtimed = Error{"connect: refused"};
    EXPECT_EQ(verdict_of(evaluate_host(f, {}), "cloudtimed-answers"), Verdict::fail);
}

}  // namespace
}  // namespace cloudtime::check
