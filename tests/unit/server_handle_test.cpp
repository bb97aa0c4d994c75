// SPDX-License-Identifier: Apache-2.0
// The whole per-datagram order of proto::handle: access list -> request checks -> rate limit
// drop -> NTS check -> KoD DENY / KoD RATE (authenticated to an NTS client) / leak -> reply,
// over every combination, NTS on.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "nts_fixture.hpp"
#include "proto/packet.hpp"
#include "proto/server_decision.hpp"
#include "test_packets.hpp"

namespace cloudtime::proto {
namespace {

constexpr std::int64_t kSec = kNanosPerSecond;
const UnixTime kNow{1'790'000'000 * kSec};
constexpr std::uint32_t kClient = 0xC000'0205U;  // 192.0.2.5

// With leak = 1 and kod = 1, the limiter's answer for a limited request is fixed by `random`.
constexpr std::uint64_t kLuckLeak = 0;  // low bit 0: leaked
constexpr std::uint64_t kLuckKod = 1;   // not leaked, bit 16 clear: KoD
constexpr std::uint64_t kLuckDrop = 1U | (std::uint64_t{1} << 16U);  // neither

enum class Limit { none, allow, leak, kod, drop };
const std::array kLimits{Limit::none, Limit::allow, Limit::leak, Limit::kod, Limit::drop};
const std::array kAccess{AccessAction::allow, AccessAction::ignore, AccessAction::deny};

std::string name_of(Limit l) {
    switch (l) {
        case Limit::none:
            return "no limiter";
        case Limit::allow:
            return "within rate";
        case Limit::leak:
            return "over rate, leaked";
        case Limit::kod:
            return "over rate, KoD";
        case Limit::drop:
            return "over rate, dropped";
    }
    return "?";
}

ClockSnapshot synced_clock() {
    ClockSnapshot c;
    c.synchronized = true;
    c.stratum = 2;
    c.refid = 0xC000'0201U;
    c.dispersion_epoch = kNow;
    c.reference_time = kNow;
    return c;
}

RateLimitPolicy strict_policy() {
    RateLimitPolicy p;
    p.interval_s = 1000.0;  // nothing refills during a test
    p.burst = 1;
    p.leak = 1;
    p.kod = 1;
    p.table_entries = 64;
    return p;
}

struct Requests {
    std::string name;
    std::vector<std::uint8_t> bytes;
    std::optional<DropReason> malformed;  // what the request's own checks say, if anything
    NtsCheck::Kind nts = NtsCheck::Kind::plain;
};

// The server's NTS keys and a client of it, for every test here.
test::NtsFixture& nts_client() {
    static test::NtsFixture fixture;
    return fixture;
}

std::vector<Requests> requests() {
    auto with_mac = test::client_request();
    with_mac.resize(with_mac.size() + 20, 0x5A);
    auto with_field = test::client_request();
    test::append_field(with_field, 0x2005, 64);
    auto bad_field = test::client_request();
    test::append_field(bad_field, 0x0104, 12);
    auto short_one = test::client_request();
    short_one.resize(47);
    test::NtsFixture& nts = nts_client();
    auto no_authenticator = nts.request(0, nts.cookie(nts.ring.current()));
    no_authenticator.resize(no_authenticator.size() - 40);
    return {
        {"client v4", test::client_request(4, 3), std::nullopt},
        {"client v3", test::client_request(3, 3), std::nullopt},
        {"client with an extension field", with_field, std::nullopt},
        {"empty", {}, DropReason::empty},
        {"mode 6", test::client_request(4, 6), DropReason::control_mode},
        {"mode 7, 8 octets", std::vector<std::uint8_t>{0x17, 0, 0, 0, 0, 0, 0, 0},
         DropReason::control_mode},
        {"mode 4", test::client_request(4, 4), DropReason::bad_mode},
        {"version 5", test::client_request(5, 3), DropReason::bad_version},
        {"47 octets", short_one, DropReason::too_short},
        {"bad extension", bad_field, DropReason::bad_extension},
        {"legacy MAC", with_mac, DropReason::authenticated},
        {"NTS, authentic", nts.request(1, nts.cookie(nts.ring.current())), std::nullopt,
         NtsCheck::Kind::authentic},
        {"NTS, a cookie under a key not held",
         nts.request(0, nts.cookie({42, test::key_filled(4)})), std::nullopt, NtsCheck::Kind::nak},
        {"NTS, no authenticator", no_authenticator, std::nullopt, NtsCheck::Kind::malformed},
    };
}

struct ServerUnderTest {
    AccessList access;
    std::optional<RateLimiter> limiter;
    ServerRules rules;
    std::uint64_t random = kLuckDrop;

    ServerUnderTest(AccessAction action, Limit limit) : access({}, action) {
        rules.access = &access;
        if (limit == Limit::none) {
            return;
        }
        limiter.emplace(strict_policy(), 7, kNow);
        rules.limiter = &*limiter;
        if (limit != Limit::allow) {
            // Spend the source's one-request burst, so that the next request is over its rate.
            limiter->check(source_key_v4(kClient), kNow, kLuckDrop);
        }
        random = limit == Limit::leak ? kLuckLeak : limit == Limit::kod ? kLuckKod : kLuckDrop;
    }
};

struct Handled {
    Decision decision;
    std::vector<std::uint8_t> reply;
};

// With NTS on, and room for a reply as long as the request, as a worker gives it.
Handled handle_once(const ServerUnderTest& s, std::span<const std::uint8_t> request) {
    Handled h;
    h.reply.assign(std::max(kHeaderSize, request.size()), 0);
    const Arrival arrival{
        .source = ipv4_mapped(kClient), .kernel_receive = kNow, .served_receive = kNow};
    test::NtsFixture& nts = nts_client();
    h.decision = handle(s.rules, arrival, request, synced_clock(), s.random, h.reply,
                        NtsVerifier{&nts.siv, &nts.ring});
    return h;
}

// What the order says the outcome must be.
Decision expected(AccessAction access, Limit limit, const Requests& r) {
    if (access == AccessAction::ignore) {
        return Drop{DropReason::ignored};
    }
    if (r.malformed) {
        return Drop{*r.malformed};
    }
    if (limit == Limit::drop) {
        return Drop{DropReason::rate_limited};
    }
    NtsCheck nts;
    nts.kind = r.nts;
    switch (r.nts) {
        case NtsCheck::Kind::malformed:
            return Drop{DropReason::bad_nts};
        case NtsCheck::Kind::nak:
            // Not to a client over its rate: a NAK invites a new handshake at that rate.
            if (limit == Limit::kod) {
                return Drop{DropReason::rate_limited};
            }
            return KissOfDeath{kHeaderSize, kKissNtsNak, nts};
        default:
            break;
    }
    if (access == AccessAction::deny) {
        return KissOfDeath{kHeaderSize, kKissDeny, nts};
    }
    if (limit == Limit::kod) {
        return KissOfDeath{kHeaderSize, kKissRate, nts};
    }
    Reply reply{kHeaderSize, limit == Limit::leak};
    reply.nts = nts;
    return reply;
}

std::string describe(const Decision& d) {
    if (const auto* drop = std::get_if<Drop>(&d)) {
        return std::string("drop ") + drop_reason_name(drop->reason);
    }
    const auto authenticated = [](const NtsCheck& nts) {
        return nts.kind == NtsCheck::Kind::authentic ? std::string(", authenticated") : "";
    };
    if (const auto* kiss = std::get_if<KissOfDeath>(&d)) {
        const std::string code = kiss->code == kKissDeny     ? "KoD DENY"
                                 : kiss->code == kKissRate   ? "KoD RATE"
                                 : kiss->code == kKissNtsNak ? "KoD NTSN"
                                                             : "KoD ?";
        return code + authenticated(kiss->nts);
    }
    const Reply& reply = std::get<Reply>(d);
    return std::string(reply.leaked ? "reply (leaked)" : "reply") + authenticated(reply.nts);
}

std::size_t written(const Decision& d) {
    if (const auto* kiss = std::get_if<KissOfDeath>(&d)) {
        return kiss->length;
    }
    if (const auto* reply = std::get_if<Reply>(&d)) {
        return reply->length;
    }
    return 0;
}

TEST(ServerHandle, EveryAccessRateAndRequestCombinationFollowsTheOrder) {
    int combinations = 0;
    for (const AccessAction access : kAccess) {
        for (const Limit limit : kLimits) {
            for (const Requests& r : requests()) {
                const ServerUnderTest setup(access, limit);
                const Handled h = handle_once(setup, r.bytes);
                const std::string context =
                    std::string(access_action_name(access)) + ", " + name_of(limit) + ", " + r.name;
                EXPECT_EQ(describe(h.decision), describe(expected(access, limit, r))) << context;
                EXPECT_LE(written(h.decision), r.bytes.size()) << context;
                if (written(h.decision) > 0) {
                    const Header header = *decode_header(h.reply);
                    EXPECT_EQ(header.mode, Mode::server) << context;
                    EXPECT_EQ(header.origin.raw,
                              load_u64(std::span(r.bytes).subspan(kTransmitOffset, 8)))
                        << context;
                }
                ++combinations;
            }
        }
    }
    EXPECT_EQ(combinations, 3 * 5 * 14);
}

TEST(ServerHandle, IgnoredAndMalformedRequestsDoNotSpendTheSourcesRate) {
    for (const AccessAction access : {AccessAction::ignore, AccessAction::allow}) {
        ServerUnderTest setup(access, Limit::allow);
        // Ignored sources and broken requests never reach the limiter...
        for (int i = 0; i < 5; ++i) {
            handle_once(setup, test::client_request(4, access == AccessAction::ignore ? 3 : 6));
        }
        // ...so the one-request burst is still there for the allowed, valid request.
        setup.rules.access = nullptr;
        EXPECT_EQ(describe(handle_once(setup, test::client_request()).decision), "reply")
            << access_action_name(access);
    }
}

TEST(ServerHandle, DeniedSourcesAreRateLimitedToo) {
    ServerUnderTest setup(AccessAction::deny, Limit::allow);
    EXPECT_EQ(describe(handle_once(setup, test::client_request()).decision), "KoD DENY");
    setup.random = kLuckDrop;
    EXPECT_EQ(describe(handle_once(setup, test::client_request()).decision), "drop rate_limited");
}

TEST(ServerHandle, KissOfDeathKeepsTheRequestsIdentityAndSaysNothingElse) {
    const ServerUnderTest setup(AccessAction::allow, Limit::kod);
    const Handled h = handle_once(setup, test::client_request(4, 3, 0xABCDEF, 7));
    ASSERT_TRUE(std::holds_alternative<KissOfDeath>(h.decision));
    const Header header = *decode_header(h.reply);
    EXPECT_EQ(header.leap, Leap::unsynchronized);
    EXPECT_EQ(header.stratum, 0);
    EXPECT_EQ(header.refid, kKissRate);
    EXPECT_EQ(header.mode, Mode::server);
    EXPECT_EQ(header.version, 4);
    EXPECT_EQ(header.poll, 7);
    EXPECT_EQ(header.origin.raw, 0xABCDEFU);
    EXPECT_EQ(header.root_delay.raw, 0U);
    EXPECT_EQ(header.root_dispersion.raw, 0U);
    EXPECT_TRUE(header.reference.is_zero());
    EXPECT_EQ(header.receive, to_ntp(kNow));
}

TEST(ServerHandle, LimiterKeysIpv4MappedSourcesByTheirIpv4Address) {
    const std::array<std::uint8_t, 16> mapped = ipv4_mapped(kClient);
    const SourceKey a = source_key(mapped, 64);
    const SourceKey b = source_key_v4(kClient);
    EXPECT_EQ(a.high, b.high);
    EXPECT_EQ(a.low, b.low);
    // A real IPv6 source is keyed by its prefix: ::ffff:0:0/64 would lump all IPv4 together.
    std::array<std::uint8_t, 16> v6{0x20, 0x01, 0x0d, 0xb8};
    v6[15] = 1;
    const SourceKey c = source_key(v6, 64);
    const SourceKey d = source_key_v6(v6, 64);
    EXPECT_EQ(c.high, d.high);
    EXPECT_EQ(c.low, d.low);
}

}  // namespace
}  // namespace cloudtime::proto
