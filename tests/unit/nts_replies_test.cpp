// SPDX-License-Identifier: Apache-2.0
// A worker's NTS replies: each reply prepared (fresh cookies, a nonce) before its transmit time
// and sealed after it with its own client's key, as an NTS client reads it.
#include "serve/nts_replies.hpp"

#include <gtest/gtest.h>

#include "nts_fixture.hpp"
#include "proto/packet.hpp"
#include "proto/server_decision.hpp"

namespace cloudtime::server {
namespace {

using test::Bytes;

// What handle() hands the worker for an authentic request of the fixture's client.
proto::NtsCheck checked(test::NtsFixture& f, const Bytes& request) {
    return proto::check_nts_request(proto::NtsVerifier{&f.siv, &f.ring}, request);
}

// A reply buffer as the batch has it: the header written, the transmit time last.
Bytes header_reply(std::uint8_t transmit_octet) {
    Bytes reply(2048, 0);
    reply[0] = 0x24;  // version 4, server
    std::fill(reply.begin() + 40, reply.begin() + 48, transmit_octet);
    return reply;
}

TEST(NtsReplies, ASealedReplyIsAuthenticWithFreshCookiesAndNoLongerThanItsRequest) {
    test::NtsFixture f;
    const Bytes request = f.request(2, f.cookie(f.ring.current()));
    const proto::NtsCheck check = checked(f, request);
    ASSERT_EQ(check.kind, proto::NtsCheck::Kind::authentic);
    ASSERT_EQ(check.cookies, 3U);  // the one spent and two placeholders

    NtsReplies replies;
    NtsReply slot;
    ASSERT_TRUE(replies.prepare(slot, check, f.ring, request.size()));
    EXPECT_TRUE(slot.active);
    Bytes reply = header_reply(0x5A);
    const std::size_t length = replies.seal(slot, reply);
    EXPECT_FALSE(slot.active);
    ASSERT_GT(length, proto::kHeaderSize);
    EXPECT_LE(length, request.size());
    reply.resize(length);

    proto::AesSiv client;
    const proto::NtsReplyRead read =
        proto::read_nts_reply(client, f.keys.s2c, reply, f.unique_id, false);
    ASSERT_EQ(read.status, proto::NtsReplyRead::Status::authentic) << read.problem;
    ASSERT_EQ(read.cookies.size(), 3U);
    for (const auto& cookie : read.cookies) {
        // Under the ring's current key, holding the client's own keys: the server can use it.
        const proto::OpenedCookie opened = proto::open_cookie(f.siv, f.ring, cookie);
        EXPECT_EQ(opened.problem, proto::CookieProblem::none);
        EXPECT_EQ(opened.keys, f.keys);
    }
    EXPECT_NE(read.cookies[0], read.cookies[1]);  // each sealed under its own nonce

    // The authenticator covers the transmit time: one changed after the seal does not verify.
    reply[47] ^= 1U;
    EXPECT_EQ(proto::read_nts_reply(client, f.keys.s2c, reply, f.unique_id, false).status,
              proto::NtsReplyRead::Status::rejected);
}

TEST(NtsReplies, EachReplyIsSealedWithItsOwnClientsKey) {
    test::NtsFixture a;
    test::NtsFixture b;
    b.keys = proto::NtsKeys{test::key_filled(0x33), test::key_filled(0x44)};
    b.unique_id = Bytes(32, 0xCD);
    const Bytes request_a = a.request(0, a.cookie(a.ring.current()));
    const Bytes request_b = b.request(0, b.cookie(b.ring.current()));

    NtsReplies replies;
    NtsReply slot_a;
    NtsReply slot_b;
    ASSERT_TRUE(replies.prepare(slot_a, checked(a, request_a), a.ring, request_a.size()));
    ASSERT_TRUE(replies.prepare(slot_b, checked(b, request_b), b.ring, request_b.size()));
    Bytes reply_a = header_reply(1);
    Bytes reply_b = header_reply(2);
    reply_a.resize(replies.seal(slot_a, reply_a));
    reply_b.resize(replies.seal(slot_b, reply_b));

    proto::AesSiv client;
    using Status = proto::NtsReplyRead::Status;
    EXPECT_EQ(proto::read_nts_reply(client, a.keys.s2c, reply_a, a.unique_id, false).status,
              Status::authentic);
    EXPECT_EQ(proto::read_nts_reply(client, b.keys.s2c, reply_b, b.unique_id, false).status,
              Status::authentic);
    EXPECT_EQ(proto::read_nts_reply(client, a.keys.s2c, reply_b, b.unique_id, false).status,
              Status::rejected);
}

TEST(NtsReplies, NoKeyToMakeCookiesUnderLeavesTheReplyUnanswered) {
    test::NtsFixture f;
    const Bytes request = f.request(0, f.cookie(f.ring.current()));
    NtsReplies replies;
    NtsReply slot;
    EXPECT_FALSE(
        replies.prepare(slot, checked(f, request), proto::CookieKeyring{}, request.size()));
    EXPECT_FALSE(slot.active);
}

}  // namespace
}  // namespace cloudtime::server
