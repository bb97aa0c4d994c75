// SPDX-License-Identifier: Apache-2.0
#include "proto/client_sample.hpp"

#include <gtest/gtest.h>

#include "proto/refid.hpp"

#include <cmath>

namespace cloudtime::proto {
namespace {

constexpr std::int64_t kSec = kNanosPerSecond;
constexpr std::int64_t kMs = 1'000'000;
const UnixTime kT1{1'790'000'000 * kSec};

Header server_reply(NtpTimestamp origin, UnixTime t2, UnixTime t3) {
    Header h;
    h.mode = Mode::server;
    h.version = 4;
    h.stratum = 2;
    h.precision = -20;
    h.refid = 0x0A00'0001U;
    h.origin = origin;
    h.receive = to_ntp(t2);
    h.transmit = to_ntp(t3);
    return h;
}

TEST(ClientRequest, IsDataMinimized) {
    const auto req = make_client_request(0xDEAD'BEEF'0BAD'F00DULL);
    const auto h = decode_header(req);
    ASSERT_TRUE(h);
    EXPECT_EQ(req[0], 0x23);  // LI 0, VN 4, mode 3
    for (std::size_t i = 1; i < kTransmitOffset; ++i) {
        EXPECT_EQ(req[i], 0) << i;
    }
    EXPECT_EQ(h->transmit.raw, 0xDEAD'BEEF'0BAD'F00DULL);
}

TEST(ClientRequest, InterleavedNamesThePreviousExchange) {
    const auto req = make_interleaved_request(7, NtpTimestamp{0x1111}, NtpTimestamp{0x2222});
    const auto h = decode_header(req);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->mode, Mode::client);
    EXPECT_EQ(h->origin.raw, 0x1111U);   // the server's receive timestamp of the last reply
    EXPECT_EQ(h->receive.raw, 0x2222U);  // our receive time of it
    EXPECT_EQ(h->transmit.raw, 7U);
    EXPECT_EQ(h->reference.raw, 0U);
    // A server in interleaved mode answers with origin = our receive field: that is the reply
    // to check, as the basic one is checked against the nonce.
    Header reply = server_reply(NtpTimestamp{0x2222}, kT1, kT1);
    EXPECT_EQ(check_reply(reply, NtpTimestamp{0x2222}), ReplyVerdict::ok);
    EXPECT_EQ(check_reply(reply, NtpTimestamp{7}), ReplyVerdict::origin_mismatch);
}

TEST(ClientSample, OffsetAndDelayPerRfc5905) {
    // Server 10 ms ahead; 2 ms each way; 1 ms inside the server.
    const UnixTime t2{kT1.ns + 2 * kMs + 10 * kMs};
    const UnixTime t3{t2.ns + 1 * kMs};
    const UnixTime t4{kT1.ns + 5 * kMs};
    const NtpTimestamp nonce{42};
    const Header h = server_reply(nonce, t2, t3);
    ASSERT_EQ(check_reply(h, nonce), ReplyVerdict::ok);
    const Sample s = make_sample(h, kT1, t4, -20);
    EXPECT_NEAR(s.offset_s, 0.010, 1e-9);
    EXPECT_NEAR(s.delay_s, 0.004, 1e-9);
    EXPECT_GT(s.dispersion_s, 0.0);
}

TEST(ClientSample, WorksAcrossThe2036Wrap) {
    const UnixTime t1{2'085'978'495 * kSec + 900 * kMs};  // 0.1 s before era 1
    const UnixTime t2{t1.ns + 150 * kMs};                 // server already in era 1
    const UnixTime t3{t2.ns + 1 * kMs};
    const UnixTime t4{t1.ns + 2 * kMs};
    const Sample s = make_sample(server_reply(NtpTimestamp{1}, t2, t3), t1, t4, -20);
    EXPECT_NEAR(s.offset_s, 0.1495, 1e-6);
    EXPECT_NEAR(s.delay_s, 0.001, 1e-6);
}

TEST(ReplyCheck, RejectsWhatIsNotAnAnswer) {
    const NtpTimestamp nonce{7};
    Header h = server_reply(nonce, kT1, kT1);
    EXPECT_EQ(check_reply(h, NtpTimestamp{8}), ReplyVerdict::origin_mismatch);
    h.mode = Mode::symmetric_passive;
    EXPECT_EQ(check_reply(h, nonce), ReplyVerdict::not_server_mode);
}

TEST(ReplyCheck, KissOfDeathCarriesItsCode) {
    const NtpTimestamp nonce{7};
    Header h = server_reply(nonce, kT1, kT1);
    h.leap = Leap::unsynchronized;
    h.stratum = 0;
    h.refid = *parse_refid("RATE");
    EXPECT_EQ(check_reply(h, nonce), ReplyVerdict::kiss_of_death);
    EXPECT_EQ(refid_to_string(h.refid, 0), "RATE");
}

TEST(ReplyCheck, UnsynchronizedServers) {
    const NtpTimestamp nonce{7};
    Header h = server_reply(nonce, kT1, kT1);
    h.leap = Leap::unsynchronized;
    EXPECT_EQ(check_reply(h, nonce), ReplyVerdict::unsynchronized);
    h.leap = Leap::none;
    h.stratum = 16;
    EXPECT_EQ(check_reply(h, nonce), ReplyVerdict::unsynchronized);
    h.stratum = 0;
    h.refid = 0;
    EXPECT_EQ(check_reply(h, nonce), ReplyVerdict::unsynchronized);
}

TEST(ReplyCheck, ZeroTransmitIsRejected) {
    const NtpTimestamp nonce{7};
    Header h = server_reply(nonce, kT1, kT1);
    h.transmit = NtpTimestamp{0};
    EXPECT_EQ(check_reply(h, nonce), ReplyVerdict::zero_transmit);
}

TEST(Summary, PicksMinimumDelayAndComputesJitter) {
    std::vector<Sample> samples(3);
    samples[0].offset_s = 0.003;
    samples[0].delay_s = 0.010;
    samples[1].offset_s = 0.001;
    samples[1].delay_s = 0.002;
    samples[2].offset_s = 0.002;
    samples[2].delay_s = 0.005;
    const auto s = summarize(samples);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->best_index, 1U);
    EXPECT_DOUBLE_EQ(s->offset_s, 0.001);
    EXPECT_DOUBLE_EQ(s->delay_s, 0.002);
    // sqrt(((0.002)^2 + 0 + (0.001)^2) / 2)
    EXPECT_NEAR(s->jitter_s, std::sqrt((4e-6 + 1e-6) / 2.0), 1e-12);
    EXPECT_FALSE(summarize({}));
    EXPECT_DOUBLE_EQ(summarize(std::span(samples).first(1))->jitter_s, 0.0);
}

}  // namespace
}  // namespace cloudtime::proto
