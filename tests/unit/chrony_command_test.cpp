// SPDX-License-Identifier: Apache-2.0

#include <gtest/gtest.h>

#include "clock/chrony_source.hpp"
#include "proto/chrony_command.hpp"
#include "proto/packet.hpp"
#include "proto/refid.hpp"

namespace cloudtime::proto {
namespace {

// A tracking reply as chronyd 4.3 lays it out (candm.h), built field by field.
std::array<std::uint8_t, kChronyTrackingLength> tracking_reply(std::uint32_t sequence) {
    std::array<std::uint8_t, kChronyTrackingLength> r{};
    std::span<std::uint8_t> s(r);
    r[0] = 6;
    r[1] = 2;
    store_u16(s.subspan(4), 33);  // command
    store_u16(s.subspan(6), 5);   // RPY_TRACKING
    store_u16(s.subspan(8), 0);   // success
    store_u32(s.subspan(16), sequence);
    store_u32(s.subspan(28), 0xC0000201);  // ref_id
    r[32] = 192;
    r[33] = 0;
    r[34] = 2;
    r[35] = 1;
    store_u16(s.subspan(48), 1);  // IPv4
    store_u16(s.subspan(52), 2);  // stratum
    store_u16(s.subspan(54), 1);  // leap: insert
    store_u32(s.subspan(56), 0);
    store_u32(s.subspan(60), 1'700'000'000U);
    store_u32(s.subspan(64), 250'000'000U);
    store_u32(s.subspan(68), encode_chrony_float(-2e-6));   // current correction
    store_u32(s.subspan(92), encode_chrony_float(0.0125));  // root delay
    store_u32(s.subspan(96), encode_chrony_float(0.0007));  // root dispersion
    store_u32(s.subspan(100), encode_chrony_float(64.5));
    return r;
}

TEST(ChronyFloat, RoundTripsWithinItsPrecision) {
    for (const double v : {1.0, -1.0, 0.5, 1e-9, -3.75e-5, 12345.678, 2.5e7, 0.0}) {
        const double back = decode_chrony_float(encode_chrony_float(v));
        EXPECT_NEAR(back, v, std::abs(v) * 1e-7) << v;
    }
}

TEST(ChronyFloat, DecodesKnownBitPatterns) {
    // exponent 1, coefficient 2^24 - 1 would be ~1; take exact ones: 2^24 * 2^(1-25) = 1.
    EXPECT_DOUBLE_EQ(decode_chrony_float((1U << 25U) | (1U << 23U)), 0.5);
    // A negative coefficient: -2^23 with exponent 1 is -0.5.
    EXPECT_DOUBLE_EQ(decode_chrony_float((1U << 25U) | (0x1FF'FFFFU & ~((1U << 23U) - 1U))), -0.5);
    // A negative exponent: -1 (0x7F), coefficient 2^23: 2^23 * 2^-26 = 0.125.
    EXPECT_DOUBLE_EQ(decode_chrony_float((0x7FU << 25U) | (1U << 23U)), 0.125);
}

TEST(ChronyTracking, RequestIsPaddedToTheReplyLength) {
    const auto request = make_chrony_tracking_request(0xA1B2C3D4);
    EXPECT_EQ(request.size(), 104U);
    EXPECT_EQ(request[0], 6);
    EXPECT_EQ(request[1], 1);
    EXPECT_EQ(load_u16(std::span(request).subspan(4)), 33);
    EXPECT_EQ(load_u32(std::span(request).subspan(8)), 0xA1B2C3D4U);
}

TEST(ChronyTracking, ParsesEveryField) {
    auto t = parse_chrony_tracking_reply(tracking_reply(7), 7);
    ASSERT_TRUE(t) << t.error();
    EXPECT_EQ(t->ref_id, 0xC0000201U);
    EXPECT_EQ(t->family, ChronyAddressFamily::inet4);
    EXPECT_EQ(t->stratum, 2);
    EXPECT_EQ(t->leap, ChronyLeap::insert);
    EXPECT_EQ(t->ref_time.ns, 1'700'000'000'250'000'000LL);
    EXPECT_NEAR(t->current_correction_s, -2e-6, 1e-12);
    EXPECT_NEAR(t->root_delay_s, 0.0125, 1e-9);
    EXPECT_NEAR(t->root_dispersion_s, 0.0007, 1e-10);
    EXPECT_NEAR(t->last_update_interval_s, 64.5, 1e-5);
}

TEST(ChronyTracking, RejectsWhatIsNotOurReply) {
    auto reply = tracking_reply(7);
    EXPECT_FALSE(parse_chrony_tracking_reply(reply, 8));  // another sequence
    EXPECT_FALSE(parse_chrony_tracking_reply(std::span(reply).first(20), 7));
    EXPECT_FALSE(parse_chrony_tracking_reply(std::span(reply).first(60), 7));
    reply[0] = 5;
    auto old = parse_chrony_tracking_reply(reply, 7);
    ASSERT_FALSE(old);
    EXPECT_NE(old.error().find("version 5"), std::string::npos);
    reply = tracking_reply(7);
    store_u16(std::span(reply).subspan(8), 2);  // STT_UNAUTH
    auto refused = parse_chrony_tracking_reply(reply, 7);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().find("unauthorised"), std::string::npos);
}

TEST(ChronySnapshot, ServesOneStratumBelowWithChronysReference) {
    auto t = parse_chrony_tracking_reply(tracking_reply(1), 1).value();
    const ClockSnapshot s = server::snapshot_from_chrony(t, -24);
    EXPECT_TRUE(s.synchronized);
    EXPECT_EQ(s.stratum, 3);
    EXPECT_EQ(s.refid, 0xC0000201U);
    EXPECT_EQ(s.leap, Leap::insert_second);
    EXPECT_NEAR(s.root_delay_s, 0.0125, 1e-9);
    EXPECT_NEAR(s.root_dispersion_s, 0.0007 + 2e-6, 1e-9);  // plus the correction left to slew
    EXPECT_EQ(s.reference_time.ns, t.ref_time.ns);
    EXPECT_EQ(s.dispersion_epoch.ns, t.ref_time.ns);
    EXPECT_EQ(s.precision, -24);
}

TEST(ChronySnapshot, Ipv6ReferenceIsTheMd5Refid) {
    auto t = parse_chrony_tracking_reply(tracking_reply(1), 1).value();
    t.family = ChronyAddressFamily::inet6;
    t.address = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    // MD5(2001:db8::1) = 39ab9b37... (python3 -c "hashlib.md5(ipaddress.ip_address(
    // '2001:db8::1').packed).hexdigest()")
    EXPECT_EQ(server::snapshot_from_chrony(t, -20).refid, 0x39ab9b37U);
}

TEST(ChronySnapshot, ReferenceClockKeepsChronysRefid) {
    auto t = parse_chrony_tracking_reply(tracking_reply(1), 1).value();
    t.family = ChronyAddressFamily::id;
    t.ref_id = 0x50484330;  // "PHC0"
    t.stratum = 1;
    const ClockSnapshot s = server::snapshot_from_chrony(t, -20);
    EXPECT_EQ(s.refid, 0x50484330U);
    EXPECT_EQ(s.stratum, 2);
}

TEST(ChronySnapshot, UnsynchronizedChronyMeansUnsynchronized) {
    auto t = parse_chrony_tracking_reply(tracking_reply(1), 1).value();
    t.leap = ChronyLeap::unsynchronized;
    EXPECT_FALSE(server::snapshot_from_chrony(t, -20).synchronized);
    t.leap = ChronyLeap::normal;
    t.stratum = 0;
    EXPECT_FALSE(server::snapshot_from_chrony(t, -20).synchronized);
    t.stratum = 15;  // we would serve 16
    EXPECT_FALSE(server::snapshot_from_chrony(t, -20).synchronized);
}

}  // namespace
}  // namespace cloudtime::proto

namespace cloudtime::proto {
namespace {

std::array<std::uint8_t, 76> source_data_reply(std::uint32_t sequence) {
    std::array<std::uint8_t, 76> r{};
    const std::span s(r);
    r[0] = 6;
    r[1] = 2;
    store_u16(s.subspan(4), 15);  // REQ_SOURCE_DATA
    store_u16(s.subspan(6), 3);   // RPY_SOURCE_DATA
    store_u32(s.subspan(16), sequence);
    r[28] = 169;
    r[29] = 254;
    r[30] = 169;
    r[31] = 254;
    store_u16(s.subspan(44), 1);       // IPv4
    store_u16(s.subspan(48), 0xFFFE);  // poll -2
    store_u16(s.subspan(50), 11);      // stratum
    store_u16(s.subspan(52), 0);       // selected
    store_u16(s.subspan(54), 0);       // client
    store_u16(s.subspan(58), 0377);    // reachability
    store_u32(s.subspan(68), encode_chrony_float(-3.5e-6));
    store_u32(s.subspan(72), encode_chrony_float(2.5e-5));
    return r;
}

TEST(ChronyAuthData, RequestNamesTheSourceAndTheReplyIsRead) {
    const auto request =
        make_chrony_auth_data_request(5, ChronyAddressFamily::inet4, {169, 254, 169, 254});
    EXPECT_EQ(request.size(), kChronyTrackingLength);
    EXPECT_EQ(load_u16(std::span(request).subspan(4)), 67);  // REQ_AUTH_DATA
    EXPECT_EQ(request[20], 169);
    EXPECT_EQ(request[23], 254);
    EXPECT_EQ(load_u16(std::span(request).subspan(36)), 1);  // IPv4
    // RPY_AUTH_DATA as chronyd 4.3 lays it out (candm.h).
    std::array<std::uint8_t, 52> r{};
    std::span<std::uint8_t> s(r);
    r[0] = 6;
    r[1] = 2;
    store_u16(s.subspan(4), 67);
    store_u16(s.subspan(6), 20);
    store_u32(s.subspan(16), 5);
    store_u16(s.subspan(28), 2);   // NTS
    store_u16(s.subspan(30), 15);  // AEAD_AES_SIV_CMAC_256
    store_u16(s.subspan(36), 256);
    store_u16(s.subspan(38), 1);
    store_u32(s.subspan(40), 64);
    store_u16(s.subspan(44), 7);
    store_u16(s.subspan(46), 100);
    store_u16(s.subspan(48), 2);
    const auto auth = parse_chrony_auth_data_reply(r, 5);
    ASSERT_TRUE(auth) << auth.error();
    EXPECT_EQ(auth->mode, ChronyAuthMode::nts);
    EXPECT_EQ(auth->key_type, 15);
    EXPECT_EQ(auth->key_length, 256);
    EXPECT_EQ(auth->ke_attempts, 1);
    EXPECT_EQ(auth->last_ke_ago, 64U);
    EXPECT_EQ(auth->cookies, 7);
    EXPECT_EQ(auth->cookie_length, 100);
    EXPECT_EQ(auth->naks, 2);
    EXPECT_FALSE(parse_chrony_auth_data_reply(r, 6));                       // another request's
    EXPECT_FALSE(parse_chrony_auth_data_reply(std::span(r).first(40), 5));  // short
}

TEST(ChronySources, RequestsAndReplies) {
    const auto count_request = make_chrony_n_sources_request(9);
    EXPECT_EQ(count_request.size(), kChronyTrackingLength);  // padded: chronyd wants that
    EXPECT_EQ(load_u16(std::span(count_request).subspan(4)), 14);
    const auto data_request = make_chrony_source_data_request(10, 3);
    EXPECT_EQ(load_u16(std::span(data_request).subspan(4)), 15);
    EXPECT_EQ(load_u32(std::span(data_request).subspan(20)), 3U);

    std::array<std::uint8_t, 32> count{};
    count[0] = 6;
    count[1] = 2;
    store_u16(std::span(count).subspan(4), 14);
    store_u16(std::span(count).subspan(6), 2);
    store_u32(std::span(count).subspan(16), 9);
    store_u32(std::span(count).subspan(28), 2);
    EXPECT_EQ(*parse_chrony_n_sources_reply(count, 9), 2U);
    EXPECT_FALSE(parse_chrony_n_sources_reply(count, 8));
    EXPECT_FALSE(parse_chrony_n_sources_reply(std::span(count).first(30), 9));

    const auto source = parse_chrony_source_data_reply(source_data_reply(10), 10);
    ASSERT_TRUE(source) << source.error();
    EXPECT_EQ(source->family, ChronyAddressFamily::inet4);
    EXPECT_EQ(source->address[0], 169);
    EXPECT_EQ(source->address[3], 254);
    EXPECT_EQ(source->poll, -2);
    EXPECT_EQ(source->stratum, 11);
    EXPECT_EQ(source->state, ChronySourceState::selected);
    EXPECT_EQ(source->mode, ChronySourceMode::client);
    EXPECT_EQ(source->reachability, 0377);
    EXPECT_NEAR(source->latest_offset_s, -3.5e-6, 1e-12);
    EXPECT_NEAR(source->latest_error_s, 2.5e-5, 1e-11);
    auto refused = source_data_reply(10);
    store_u16(std::span(refused).subspan(8), 3);  // invalid command
    EXPECT_EQ(parse_chrony_source_data_reply(refused, 10).error(),
              "chrony refused the source data request: invalid command (status 3)");
}

}  // namespace
}  // namespace cloudtime::proto
