// libFuzzer target: the server's whole per-datagram decision (proto::handle) on arbitrary
// datagrams, under an access action, a rate limit state and a random draw that the first three
// octets choose. Checks the rules that keep cloudtimed from ever being an amplifier: only mode 3
// is answered, with mode 4, never with more octets than the request, with its transmit timestamp
// as origin (or, in interleaved mode, its receive field, with the recorded transmit time); an
// ignored source is never answered; a kiss-of-death carries stratum 0 and LI=3.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "proto/server_decision.hpp"

namespace p = cloudtime::proto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 3) {
        return 0;
    }
    const std::span<const std::uint8_t> input(data, size);
    const std::uint8_t choice = input[0];
    const std::uint8_t spent = input[1];  // requests the source sent just before this one
    const std::uint64_t random = input[2];
    const std::span<const std::uint8_t> request = input.subspan(3);

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

    std::array<std::uint8_t, p::kHeaderSize> reply{};
    const auto decision = p::handle(rules, arrival, request, clock, random, reply);
    std::size_t length = 0;
    bool interleaved = false;
    if (const auto* answer = std::get_if<p::Reply>(&decision)) {
        length = answer->length;
        interleaved = answer->interleaved;
    } else if (const auto* kiss = std::get_if<p::KissOfDeath>(&decision)) {
        length = kiss->length;
        if (reply[1] != 0 || (reply[0] >> 6U) != 3U) {
            std::abort();
        }
    } else {
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
