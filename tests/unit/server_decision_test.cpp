// SPDX-License-Identifier: Apache-2.0
#include "proto/server_decision.hpp"

#include <gtest/gtest.h>

#include <array>

#include "proto/packet.hpp"
#include "test_packets.hpp"

namespace cloudtime::proto {
namespace {

constexpr std::int64_t kSec = kNanosPerSecond;
const UnixTime kNow{1'790'000'000 * kSec + 123'456'789};

ClockSnapshot synced_clock() {
    ClockSnapshot c;
    c.synchronized = true;
    c.leap = Leap::none;
    c.stratum = 3;
    c.precision = -24;
    c.refid = 0xC000'0201U;
    c.root_delay_s = 0.0125;
    c.root_dispersion_s = 0.001;
    c.dispersion_epoch = UnixTime{kNow.ns - 100 * kSec};
    c.reference_time = UnixTime{kNow.ns - 100 * kSec};
    return c;
}

struct Outcome {
    Decision decision;
    std::array<std::uint8_t, kHeaderSize> reply{};
};

Outcome run(const std::vector<std::uint8_t>& request, const ClockSnapshot& clock = synced_clock()) {
    Outcome o;
    const Arrival arrival{
        .source = ipv4_mapped(0xC000'0205U), .kernel_receive = kNow, .served_receive = kNow};
    o.decision = handle(ServerRules{}, arrival, request, clock, 1, o.reply);
    return o;
}

DropReason drop_of(const Outcome& o) {
    EXPECT_TRUE(std::holds_alternative<Drop>(o.decision));
    return std::get<Drop>(o.decision).reason;
}

Header reply_header(const Outcome& o) {
    EXPECT_TRUE(std::holds_alternative<Reply>(o.decision));
    return *decode_header(o.reply);
}

TEST(ServerDecision, AnswersModeThreeWithModeFour) {
    const auto o = run(test::client_request(4, 3));
    ASSERT_TRUE(std::holds_alternative<Reply>(o.decision));
    EXPECT_EQ(std::get<Reply>(o.decision).length, kHeaderSize);
    const Header h = reply_header(o);
    EXPECT_EQ(h.mode, Mode::server);
    EXPECT_EQ(h.version, 4);
    EXPECT_EQ(h.leap, Leap::none);
    EXPECT_EQ(h.stratum, 3);
    EXPECT_EQ(h.precision, -24);
    EXPECT_EQ(h.refid, 0xC000'0201U);
    EXPECT_EQ(h.root_delay, NtpShort::from_seconds(0.0125));
    EXPECT_EQ(h.reference, to_ntp(UnixTime{kNow.ns - 100 * kSec}));
    EXPECT_EQ(h.receive, to_ntp(kNow));
    EXPECT_TRUE(h.transmit.is_zero());  // stamped by the caller, last
}

TEST(ServerDecision, EchoesVersionThreeAndFour) {
    EXPECT_EQ(reply_header(run(test::client_request(3, 3))).version, 3);
    EXPECT_EQ(reply_header(run(test::client_request(4, 3))).version, 4);
}

TEST(ServerDecision, EchoesPoll) {
    EXPECT_EQ(reply_header(run(test::client_request(4, 3, 1, 10))).poll, 10);
    EXPECT_EQ(reply_header(run(test::client_request(4, 3, 1, -3))).poll, -3);
}

TEST(ServerDecision, OriginIsRequestTransmitBitForBit) {
    // Nanoseconds stored raw in the fraction (as timesyncd does) and odd patterns survive.
    for (const std::uint64_t t :
         {0x0123'4567'89AB'CDEFULL, 0xFFFF'FFFF'FFFF'FFFFULL, 0ULL, 0x0000'0001'3B9A'C9FFULL}) {
        EXPECT_EQ(reply_header(run(test::client_request(4, 3, t))).origin.raw, t);
    }
}

TEST(ServerDecision, DropsEveryModeButClient) {
    for (const int m : {0, 1, 2, 4, 5}) {
        const auto mode = static_cast<std::uint8_t>(m);
        EXPECT_EQ(drop_of(run(test::client_request(4, mode))), DropReason::bad_mode) << +mode;
    }
    for (const int m : {6, 7}) {
        const auto mode = static_cast<std::uint8_t>(m);
        EXPECT_EQ(drop_of(run(test::client_request(4, mode))), DropReason::control_mode) << +mode;
        // ntpq/ntpdc queries are 12 and 8 octets: still counted as control, not as short.
        std::vector<std::uint8_t> tiny(12, 0);
        tiny[0] = static_cast<std::uint8_t>((2U << 3U) | mode);
        EXPECT_EQ(drop_of(run(tiny)), DropReason::control_mode) << +mode;
    }
}

TEST(ServerDecision, DropsUnsupportedVersions) {
    for (const int vi : {0, 1, 2, 5, 6, 7}) {
        const auto v = static_cast<std::uint8_t>(vi);
        EXPECT_EQ(drop_of(run(test::client_request(v, 3))), DropReason::bad_version) << +v;
    }
}

TEST(ServerDecision, DropsShortAndEmpty) {
    EXPECT_EQ(drop_of(run({})), DropReason::empty);
    auto p = test::client_request();
    p.resize(47);
    EXPECT_EQ(drop_of(run(p)), DropReason::too_short);
    p.resize(1);
    EXPECT_EQ(drop_of(run(p)), DropReason::too_short);
}

TEST(ServerDecision, DropsBadExtensionFields) {
    auto p = test::client_request();
    test::append_field(p, 0x0104, 12);
    EXPECT_EQ(drop_of(run(p)), DropReason::bad_extension);
    auto q = test::client_request();
    q.resize(q.size() + 7, 0);
    EXPECT_EQ(drop_of(run(q)), DropReason::bad_extension);
}

TEST(ServerDecision, DropsLegacyMacRequests) {
    auto p = test::client_request();
    p.resize(p.size() + 20, 0x5A);
    EXPECT_EQ(drop_of(run(p)), DropReason::authenticated);
}

TEST(ServerDecision, ReplyNeverLongerThanRequest) {
    auto p = test::client_request();
    test::append_field(p, 0x2005, 64);
    const auto o = run(p);
    ASSERT_TRUE(std::holds_alternative<Reply>(o.decision));
    EXPECT_LE(std::get<Reply>(o.decision).length, p.size());
    EXPECT_EQ(std::get<Reply>(o.decision).length, kHeaderSize);
}

TEST(ServerDecision, UnsynchronizedMeansLeap3Stratum0) {
    ClockSnapshot c = synced_clock();
    c.synchronized = false;
    const Header h = reply_header(run(test::client_request(), c));
    EXPECT_EQ(h.leap, Leap::unsynchronized);
    EXPECT_EQ(h.stratum, 0);
    EXPECT_EQ(h.refid, 0U);
    EXPECT_TRUE(h.reference.is_zero());
    EXPECT_EQ(h.receive, to_ntp(kNow));
}

TEST(ServerDecision, LeapAnnouncedWhenSynchronized) {
    ClockSnapshot c = synced_clock();
    c.leap = Leap::insert_second;
    EXPECT_EQ(reply_header(run(test::client_request(), c)).leap, Leap::insert_second);
}

TEST(ServerDecision, RootDispersionGrowsAtFifteenPpm) {
    const Header h = reply_header(run(test::client_request()));
    // 1 ms at the epoch, 100 s ago: 1 ms + 1.5 ms.
    EXPECT_NEAR(h.root_dispersion.to_seconds(), 0.0025, 1.0 / 65536.0);
    EXPECT_DOUBLE_EQ(root_dispersion_at(synced_clock(), kNow), 0.001 + 100 * 15e-6);
}

TEST(ServerDecision, TransmitStampedLast) {
    auto o = run(test::client_request());
    const UnixTime tx{kNow.ns + 5000};
    stamp_transmit(o.reply, tx);
    const Header h = *decode_header(o.reply);
    EXPECT_EQ(h.transmit, to_ntp(tx));
    EXPECT_EQ(h.origin.raw, 0x0123'4567'89AB'CDEFULL);
}

}  // namespace
}  // namespace cloudtime::proto
