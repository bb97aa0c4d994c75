// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the server's whole per-datagram decision (proto::handle) on arbitrary
// datagrams, under an access action, a rate limit state and a random draw that the first three
// octets choose. Checks the rules that keep cloudtimed from ever being an amplifier: only mode 3
// is answered, with mode 4, never with more octets than the request, with its transmit timestamp
// as origin (or, in interleaved mode, its receive field, with the recorded transmit time); an
// ignored source is never answered; a kiss-of-death carries stratum 0 and LI=3. With NTS on
// (choice bit 64), and bit 128 set, the datagram is a genuine NTS request changed by the
// (offset, XOR) pairs that follow: only the unchanged request is authentic, and it is when
// nothing else stops it; an NTS NAK answers only an NTS request, and only with NTS on; a RATE
// or DENY to the genuine request is authenticated (RFC 8915 section 5.7), to any other not.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "proto/nts_cookie.hpp"
#include "proto/nts_fields.hpp"
#include "proto/server_decision.hpp"

namespace p = cloudtime::proto;

namespace {

struct NtsFixture {
    p::AesSiv siv;
    p::CookieKeyring ring{{p::CookieKey{1, p::SivKey{1}}, p::CookieKey{2, p::SivKey{2}}}};
    p::NtsKeys keys{p::SivKey{3}, p::SivKey{4}};
    std::vector<std::uint8_t> genuine;  // a client request with 2 placeholders

    NtsFixture() {
        std::array<std::uint8_t, p::kCookieLength> cookie{};
        const std::array<std::uint8_t, p::kCookieNonceLength> cookie_nonce{7};
        const std::vector<std::uint8_t> unique_id(32, 5);
        const std::array<std::uint8_t, p::kNtsNonceLength> nonce{6};
        genuine.assign(2048, 0);
        genuine[0] = 0x23;  // version 4, client
        genuine[p::kTransmitOffset] = 0x42;
        if (!p::seal_cookie(siv, ring.current(), keys, cookie_nonce, cookie)) {
            std::abort();
        }
        genuine.resize(p::append_nts_request(siv, keys.c2s, genuine, unique_id, cookie, 2, nonce));
        if (genuine.size() <= p::kHeaderSize) {
            std::abort();
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 3) {
        return 0;
    }
    const std::span<const std::uint8_t> input(data, size);
    const std::uint8_t choice = input[0];
    const std::uint8_t spent = input[1];  // requests the source sent just before this one
    const std::uint64_t random = input[2];
    static NtsFixture nts;
    const bool nts_on = (choice & 64U) != 0;
    const bool genuine = nts_on && (choice & 128U) != 0;
    std::vector<std::uint8_t> changed;
    std::span<const std::uint8_t> request = input.subspan(3);
    if (genuine) {
        changed = nts.genuine;
        for (std::size_t i = 0; i + 1 < request.size(); i += 2) {
            changed[request[i] * 4U % changed.size()] ^= request[i + 1];
        }
        request = changed;
    }
    const bool unchanged = genuine && changed == nts.genuine;

    const p::UnixTime now{1'790'000'000LL * p::kNanosPerSecond};
    p::ClockSnapshot clock;
    clock.synchronized = (choice & 1U) == 0;
    clock.stratum = 2;
    clock.root_dispersion_s = 0.001;

    const auto action = static_cast<p::AccessAction>((choice >> 1U) % 3U);
    const p::AccessList access({}, action);
    p::RateLimitPolicy limits;
    limits.burst = 4;
    limits.leak = 1;
    limits.kod = 1;
    limits.table_entries = 64;
    p::RateLimiter limiter(limits, 11, now);
    p::InterleavedTable records(64, 5);
    const p::ServerRules rules{.policy = {},
                               .access = &access,
                               .limiter = (choice & 8U) != 0 ? &limiter : nullptr,
                               .ipv6_prefix = 64,
                               .interleaved = (choice & 16U) != 0 ? &records : nullptr};
    const p::Arrival arrival{
        .source = p::ipv4_mapped(0xC000'0205U), .kernel_receive = now, .served_receive = now};
    // The exchange the request names exists when the fuzzer says so.
    constexpr p::NtpTimestamp kRecordedTransmit{0x0123'4567'89AB'CDEFULL};
    if ((choice & 32U) != 0 && request.size() >= p::kHeaderSize) {
        records.remember(p::NtpTimestamp{p::load_u64(request.subspan(p::kOriginOffset, 8))},
                         arrival.source, kRecordedTransmit);
    }
    for (unsigned i = 0; i < spent % 8U; ++i) {
        limiter.check(p::source_key(arrival.source, 64), now, random);
    }

    // Room for a reply as long as the request, as a worker gives it with NTS on.
    std::vector<std::uint8_t> reply(std::max(p::kHeaderSize, request.size()), 0);
    const p::NtsVerifier verifier = nts_on ? p::NtsVerifier{&nts.siv, &nts.ring} : p::NtsVerifier{};
    const auto decision = p::handle(rules, arrival, request, clock, random, reply, verifier);
    std::size_t length = 0;
    bool interleaved = false;
    if (const auto* answer = std::get_if<p::Reply>(&decision)) {
        length = answer->length;
        interleaved = answer->interleaved;
        const bool authentic = answer->nts.kind == p::NtsCheck::Kind::authentic;
        if (authentic != (answer->nts.kind != p::NtsCheck::Kind::plain) || authentic != unchanged) {
            std::abort();  // answered: plain NTP, or NTS authentic, which only the genuine is
        }
    } else if (const auto* kiss = std::get_if<p::KissOfDeath>(&decision)) {
        length = kiss->length;
        const bool nak = kiss->code == p::kKissNtsNak;
        if (reply[1] != 0 || (reply[0] >> 6U) != 3U ||
            (nak &&
             (!nts_on || p::read_nts_request(request).problem != p::NtsRequestProblem::none)) ||
            (nak && unchanged) ||
            (!nak && (kiss->nts.kind == p::NtsCheck::Kind::authentic) != unchanged)) {
            std::abort();  // a NAK answers a well-formed NTS request, never the genuine one
        }
    } else {
        // The genuine request goes unanswered only when its rate says so.
        if (unchanged && action == p::AccessAction::allow &&
            (std::get<p::Drop>(decision).reason != p::DropReason::rate_limited ||
             (choice & 8U) == 0)) {
            std::abort();
        }
        return 0;
    }
    // Basic: origin = the request's transmit field. Interleaved: origin = its receive field,
    // transmit = the recorded time, and only for a record this source has.
    const std::size_t echoed = interleaved ? p::kReceiveOffset : p::kTransmitOffset;
    if (action == p::AccessAction::ignore || length > request.size() ||
        p::mode_of(request[0]) != p::Mode::client || p::mode_of(reply[0]) != p::Mode::server ||
        !std::equal(request.begin() + static_cast<std::ptrdiff_t>(echoed),
                    request.begin() + static_cast<std::ptrdiff_t>(echoed + 8),
                    reply.begin() + p::kOriginOffset) ||
        (interleaved &&
         ((choice & 48U) != 48U || p::load_u64(std::span<const std::uint8_t>(reply).subspan(
                                       p::kTransmitOffset, 8)) != kRecordedTransmit.raw))) {
        std::abort();
    }
    return 0;
}
