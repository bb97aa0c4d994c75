// SPDX-License-Identifier: Apache-2.0
#include "proto/nts_fields.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "nts_fixture.hpp"
#include "proto/nts_cookie.hpp"
#include "proto/nts_server.hpp"
#include "proto/packet.hpp"

namespace cloudtime::proto {
namespace {

using test::Bytes;
using test::key_filled;
using test::nonce_filled;
using Fixture = test::NtsFixture;

std::vector<std::span<const std::uint8_t>> spans_of(const std::vector<Bytes>& cookies) {
    return {cookies.begin(), cookies.end()};
}

TEST(NtsCookie, SealedByOneOpenedByAnyHolderOfTheKey) {
    Fixture f;
    const Bytes cookie = f.cookie(f.ring.current());
    EXPECT_EQ(cookie.size(), 100U);  // what chrony's clients are used to
    AesSiv other;                    // another worker, another server with the same keys
    const OpenedCookie opened = open_cookie(other, f.ring, cookie);
    ASSERT_EQ(opened.problem, CookieProblem::none);
    EXPECT_EQ(opened.keys, f.keys);
    // A previous key still opens its cookies; a key no longer held does not.
    EXPECT_EQ(open_cookie(f.siv, f.ring, f.cookie(CookieKey{6, key_filled(0x22)})).problem,
              CookieProblem::none);
    EXPECT_EQ(open_cookie(f.siv, f.ring, f.cookie(CookieKey{5, key_filled(0x33)})).problem,
              CookieProblem::unknown_key);
    // The id is authenticated: the same ciphertext under another id is forged.
    Bytes relabelled = cookie;
    store_u32(relabelled, 6);
    EXPECT_EQ(open_cookie(f.siv, f.ring, relabelled).problem, CookieProblem::forged);
    Bytes flipped = cookie;
    flipped[50] ^= 1U;
    EXPECT_EQ(open_cookie(f.siv, f.ring, flipped).problem, CookieProblem::forged);
    EXPECT_EQ(open_cookie(f.siv, f.ring, Bytes(99)).problem, CookieProblem::wrong_length);
    EXPECT_EQ(open_cookie(f.siv, CookieKeyring{}, cookie).problem, CookieProblem::unknown_key);
    // Two cookies for the same keys do not look alike (fresh nonces).
    EXPECT_NE(f.cookie(f.ring.current(), 1), f.cookie(f.ring.current(), 2));
}

TEST(NtsFields, RequestVerifiedAndAnsweredAtItsOwnLength) {
    Fixture f;
    const Bytes request = f.request(3, f.cookie(f.ring.current()));
    EXPECT_EQ(request.size(), 48U + 36 + 104 * 4 + 40);
    const NtsRequestRead read = read_nts_request(request);
    ASSERT_EQ(read.problem, NtsRequestProblem::none) << nts_request_problem_name(read.problem);
    EXPECT_EQ(read.request.placeholders, 3U);
    const OpenedCookie opened = open_cookie(f.siv, f.ring, read.request.cookie);
    ASSERT_EQ(opened.problem, CookieProblem::none);
    EXPECT_EQ(verify_nts_request(f.siv, opened.keys.c2s, request, read.request), 4U);

    std::vector<Bytes> fresh;
    for (std::uint8_t i = 0; i < 4; ++i) {
        fresh.push_back(f.cookie(f.ring.current(), static_cast<std::uint8_t>(10 + i)));
    }
    Bytes reply(1024, 0);
    reply[0] = 0x24;
    const std::size_t n = append_nts_reply(f.siv, opened.keys.s2c, reply, read.request.unique_id,
                                           spans_of(fresh), nonce_filled(9), request.size());
    EXPECT_EQ(n, request.size());
    reply.resize(n);
    const NtsReplyRead answer = read_nts_reply(f.siv, f.keys.s2c, reply, f.unique_id, false);
    ASSERT_EQ(answer.status, NtsReplyRead::Status::authentic) << answer.problem;
    EXPECT_EQ(answer.cookies, fresh);
    // Changed in flight: not authentic.
    Bytes changed = reply;
    changed[40] ^= 1U;  // the transmit timestamp
    EXPECT_EQ(read_nts_reply(f.siv, f.keys.s2c, changed, f.unique_id, false).status,
              NtsReplyRead::Status::rejected);
    // Someone else's unique id: not ours.
    EXPECT_EQ(read_nts_reply(f.siv, f.keys.s2c, reply, Bytes(32, 0xCD), false).status,
              NtsReplyRead::Status::rejected);
}

// A request whose placeholders are inside the authenticator's encrypted fields (RFC 8915
// section 5.7 allows either): 15 of them make 1788 octets, which the server reads whole.
Bytes encrypted_placeholders_request(Fixture& f, std::size_t placeholders) {
    Bytes packet(2048, 0);
    packet[0] = 0x23;
    const auto nonce = nonce_filled(3);
    // The header, the unique identifier and the cookie as the client writes them; its
    // authenticator (40 octets, no encrypted field) is replaced.
    const std::size_t at = append_nts_request(f.siv, f.keys.c2s, packet, f.unique_id,
                                              f.cookie(f.ring.current()), 0, nonce) -
                           40;
    Bytes plain;
    for (std::size_t i = 0; i < placeholders; ++i) {
        plain.insert(plain.end(), {0x03, 0x04, 0x00, 4 + kCookieLength});
        plain.resize(plain.size() + kCookieLength, 0);
    }
    const std::size_t ciphertext = 16 + plain.size();
    const std::size_t length = 4 + 4 + kNtsNonceLength + ciphertext;
    const std::array<std::uint8_t, 8> head{0x04,
                                           0x04,
                                           static_cast<std::uint8_t>(length >> 8U),
                                           static_cast<std::uint8_t>(length & 0xFFU),
                                           0,
                                           kNtsNonceLength,
                                           static_cast<std::uint8_t>(ciphertext >> 8U),
                                           static_cast<std::uint8_t>(ciphertext & 0xFFU)};
    std::copy(head.begin(), head.end(), packet.begin() + static_cast<long>(at));
    std::copy(nonce.begin(), nonce.end(), packet.begin() + static_cast<long>(at + 8));
    EXPECT_TRUE(f.siv.seal(f.keys.c2s, {std::span(packet).first(at), nonce}, plain,
                           std::span(packet).subspan(at + 8 + kNtsNonceLength, ciphertext)));
    packet.resize(at + length);
    return packet;
}

// Authentic, it is answered with the cookies the server gives (eight at most), never NAKed: a
// NAK tells the client its cookie is bad, which is not true.
TEST(NtsServer, ManyEncryptedPlaceholdersAreAnsweredNotNaked) {
    Fixture f;
    const Bytes request = encrypted_placeholders_request(f, 15);
    ASSERT_EQ(request.size(), 1788U);
    const NtsCheck check = check_nts_request({&f.siv, &f.ring}, request);
    ASSERT_EQ(check.kind, NtsCheck::Kind::authentic);
    EXPECT_EQ(check.cookies, kMaxNtsCookies);
    const std::vector<Bytes> fresh(kMaxNtsCookies, f.cookie(f.ring.current()));
    Bytes reply(2048, 0);
    const std::size_t n = append_nts_reply(f.siv, f.keys.s2c, reply, check.unique_id,
                                           spans_of(fresh), nonce_filled(9), request.size());
    EXPECT_EQ(n, request.size());
    reply.resize(n);
    const NtsReplyRead answer = read_nts_reply(f.siv, f.keys.s2c, reply, f.unique_id, false);
    ASSERT_EQ(answer.status, NtsReplyRead::Status::authentic) << answer.problem;
    EXPECT_EQ(answer.cookies.size(), kMaxNtsCookies);
}

TEST(NtsFields, ReplyNeverLongerThanTheRequest) {
    Fixture f;
    const Bytes request = f.request(0, f.cookie(f.ring.current()));
    const NtsRequestRead read = read_nts_request(request);
    ASSERT_EQ(read.problem, NtsRequestProblem::none);
    const std::vector<Bytes> fresh(8, f.cookie(f.ring.current()));
    Bytes reply(1024, 0);
    const std::size_t n = append_nts_reply(f.siv, f.keys.s2c, reply, read.request.unique_id,
                                           spans_of(fresh), nonce_filled(9), request.size());
    EXPECT_EQ(n, request.size());
    reply.resize(n);
    const NtsReplyRead answer = read_nts_reply(f.siv, f.keys.s2c, reply, f.unique_id, false);
    ASSERT_EQ(answer.status, NtsReplyRead::Status::authentic) << answer.problem;
    EXPECT_EQ(answer.cookies.size(), 1U);  // one asked for, one given though eight were ready
}

TEST(NtsFields, ForgedRequestsDoNotVerify) {
    Fixture f;
    Bytes request = f.request(1, f.cookie(f.ring.current()));
    const NtsRequestRead read = read_nts_request(request);
    ASSERT_EQ(read.problem, NtsRequestProblem::none);
    EXPECT_EQ(verify_nts_request(f.siv, key_filled(0x99), request, read.request), 0U);
    request[47] ^= 1U;  // the transmit timestamp, inside the associated data
    EXPECT_EQ(verify_nts_request(f.siv, f.keys.c2s, request, read_nts_request(request).request),
              0U);
}

TEST(NtsFields, MalformedRequestsNamed) {
    Fixture f;
    const Bytes good = f.request(1, f.cookie(f.ring.current()));
    EXPECT_EQ(read_nts_request(Bytes(48, 0)).problem, NtsRequestProblem::not_nts);
    // Without its authenticator (the last 40 octets): missing.
    EXPECT_EQ(read_nts_request(Bytes(good.begin(), good.end() - 40)).problem,
              NtsRequestProblem::authenticator_missing);
    // A unique identifier of 28 octets.
    Fixture short_id;
    short_id.unique_id = Bytes(28, 1);
    EXPECT_EQ(read_nts_request(short_id.request(0, f.cookie(f.ring.current()))).problem,
              NtsRequestProblem::unique_id_missing);
    // Truncated inside the authenticator.
    EXPECT_EQ(read_nts_request(Bytes(good.begin(), good.end() - 4)).problem,
              NtsRequestProblem::malformed_fields);
    // A placeholder of another length than the cookie: the good request's cookie and
    // authenticator around a 96-octet placeholder.
    Bytes mixed(good.begin(), good.begin() + 48 + 36 + 104);
    const Bytes placeholder_field = {0x03, 0x04, 0x00, 100};
    mixed.insert(mixed.end(), placeholder_field.begin(), placeholder_field.end());
    mixed.resize(mixed.size() + 96, 0);
    mixed.insert(mixed.end(), good.end() - 40, good.end());
    EXPECT_EQ(read_nts_request(mixed).problem, NtsRequestProblem::placeholder_length);
    // Two cookies.
    Bytes twice(good.begin(), good.begin() + 48 + 36 + 104);
    twice.insert(twice.end(), good.begin() + 48 + 36, good.begin() + 48 + 36 + 104);
    twice.insert(twice.end(), good.end() - 40, good.end());
    EXPECT_EQ(read_nts_request(twice).problem, NtsRequestProblem::cookie_missing);
    // A field (of a type we do not know) after the authenticator.
    Bytes after = good;
    const Bytes unknown_field = {0x77, 0x77, 0x00, 28};
    after.insert(after.end(), unknown_field.begin(), unknown_field.end());
    after.resize(after.size() + 24, 0);
    EXPECT_EQ(read_nts_request(after).problem, NtsRequestProblem::authenticator_missing);
    // The authenticator's declared nonce longer than its field.
    Bytes bad_nonce = good;
    store_u16(std::span(bad_nonce).subspan(bad_nonce.size() - 36), 200);
    EXPECT_EQ(read_nts_request(bad_nonce).problem, NtsRequestProblem::authenticator_malformed);
}

TEST(NtsFields, NakCarriesOnlyTheUniqueIdentifier) {
    Fixture f;
    Bytes reply(1024, 0);
    const std::size_t n = append_nts_nak(reply, f.unique_id);
    EXPECT_EQ(n, 48U + 36);
    reply.resize(n);
    EXPECT_EQ(read_nts_reply(f.siv, f.keys.s2c, reply, f.unique_id, true).status,
              NtsReplyRead::Status::nak);
    EXPECT_EQ(read_nts_reply(f.siv, f.keys.s2c, reply, Bytes(32, 0), true).status,
              NtsReplyRead::Status::rejected);
}

}  // namespace
}  // namespace cloudtime::proto

#include "proto/nts_server.hpp"

namespace cloudtime::proto {
namespace {

TEST(NtsServer, ChecksRequestsAsTheServerMust) {
    Fixture f;
    const NtsVerifier verifier{&f.siv, &f.ring};
    const Bytes request = f.request(2, f.cookie(f.ring.current()));
    NtsCheck check = check_nts_request(verifier, request);
    ASSERT_EQ(check.kind, NtsCheck::Kind::authentic);
    EXPECT_EQ(check.cookies, 3U);
    EXPECT_EQ(check.keys, f.keys);
    EXPECT_EQ(Bytes(check.unique_id.begin(), check.unique_id.end()), f.unique_id);
    // NTS off: plain NTP, whatever the fields.
    EXPECT_EQ(check_nts_request({}, request).kind, NtsCheck::Kind::plain);
    EXPECT_EQ(check_nts_request(verifier, Bytes(48, 0)).kind, NtsCheck::Kind::plain);
    // A cookie under a key no longer held, and a request changed in flight: NAKs.
    check = check_nts_request(verifier, f.request(0, f.cookie(CookieKey{99, key_filled(9)})));
    EXPECT_EQ(check.kind, NtsCheck::Kind::nak);
    EXPECT_EQ(check.cookie, CookieProblem::unknown_key);
    Bytes changed = request;
    changed[47] ^= 1U;
    EXPECT_EQ(check_nts_request(verifier, changed).kind, NtsCheck::Kind::nak);
    // Malformed (no authenticator): dropped, not NAKed.
    check = check_nts_request(verifier, Bytes(request.begin(), request.end() - 40));
    EXPECT_EQ(check.kind, NtsCheck::Kind::malformed);
    EXPECT_EQ(check.problem, NtsRequestProblem::authenticator_missing);
}

}  // namespace
}  // namespace cloudtime::proto

#include "proto/server_decision.hpp"

namespace cloudtime::proto {
namespace {

Decision decide(Fixture& f, const Bytes& request, Bytes& reply, const ServerRules& rules = {}) {
    ClockSnapshot clock;
    clock.synchronized = true;
    clock.stratum = 3;
    const UnixTime now{1'790'000'000LL * kNanosPerSecond};
    const Arrival arrival{
        .source = ipv4_mapped(0xC000'0205U), .kernel_receive = now, .served_receive = now};
    reply.assign(1024, 0);
    return handle(rules, arrival, request, clock, 1, reply, NtsVerifier{&f.siv, &f.ring});
}

TEST(NtsServer, HandleAnswersNaksAndDrops) {
    Fixture f;
    Bytes reply;
    const Bytes request = f.request(1, f.cookie(f.ring.current()));
    Decision d = decide(f, request, reply);
    ASSERT_TRUE(std::holds_alternative<Reply>(d));
    const Reply& answer = std::get<Reply>(d);
    EXPECT_EQ(answer.nts.kind, NtsCheck::Kind::authentic);
    EXPECT_EQ(answer.nts.cookies, 2U);
    EXPECT_EQ(answer.length, kHeaderSize);  // the NTS fields come after the transmit time

    // A cookie under an unknown key: KoD NTSN carrying the unique identifier, no longer than
    // the request.
    d = decide(f, f.request(0, f.cookie(CookieKey{42, key_filled(4)})), reply);
    ASSERT_TRUE(std::holds_alternative<KissOfDeath>(d));
    const KissOfDeath kod = std::get<KissOfDeath>(d);
    EXPECT_EQ(kod.code, kKissNtsNak);
    EXPECT_EQ(kod.nts.cookie, CookieProblem::unknown_key);
    EXPECT_EQ(kod.length, kHeaderSize + 36);
    reply.resize(kod.length);
    EXPECT_EQ(read_nts_reply(f.siv, f.keys.s2c, reply, f.unique_id, true).status,
              NtsReplyRead::Status::nak);

    // No authenticator: dropped.
    d = decide(f, Bytes(request.begin(), request.end() - 40), reply);
    ASSERT_TRUE(std::holds_alternative<Drop>(d));
    EXPECT_EQ(std::get<Drop>(d).reason, DropReason::bad_nts);

    // A denied source's KoD DENY is authenticated (RFC 8915 section 5.7: an NTS client
    // ignores any other): the worker seals it with the client's S2C key, as a reply.
    const AccessList deny_all({}, AccessAction::deny);
    ServerRules rules;
    rules.access = &deny_all;
    d = decide(f, request, reply, rules);
    ASSERT_TRUE(std::holds_alternative<KissOfDeath>(d));
    EXPECT_EQ(std::get<KissOfDeath>(d).code, kKissDeny);
    EXPECT_EQ(std::get<KissOfDeath>(d).nts.kind, NtsCheck::Kind::authentic);
    EXPECT_EQ(std::get<KissOfDeath>(d).nts.keys, f.keys);
    EXPECT_EQ(std::get<KissOfDeath>(d).length, kHeaderSize);
}

}  // namespace
}  // namespace cloudtime::proto
