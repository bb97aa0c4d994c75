// SPDX-License-Identifier: Apache-2.0
#include "proto/server_decision.hpp"

#include <algorithm>

#include "proto/extension_fields.hpp"
#include "proto/packet.hpp"

namespace cloudtime::proto {

double root_dispersion_at(const ClockSnapshot& snapshot, UnixTime now) {
    const double elapsed = std::max(0.0, seconds_between(snapshot.dispersion_epoch, now));
    return snapshot.root_dispersion_s + kDispersionRate * elapsed;
}

const char* drop_reason_name(DropReason reason) {
    switch (reason) {
        case DropReason::empty:
            return "empty";
        case DropReason::control_mode:
            return "control_mode";
        case DropReason::bad_mode:
            return "bad_mode";
        case DropReason::bad_version:
            return "bad_version";
        case DropReason::too_short:
            return "too_short";
        case DropReason::bad_extension:
            return "bad_extension";
        case DropReason::authenticated:
            return "authenticated";
        case DropReason::rate_limited:
            return "rate_limited";
        case DropReason::ignored:
            return "ignored";
        case DropReason::bad_nts:
            return "bad_nts";
    }
    return "unknown";
}

namespace {

// The request's own checks, then the reply's header (all but the transmit timestamp).
std::variant<Reply, Drop> answer(std::span<const std::uint8_t> request, UnixTime received,
                                 const ClockSnapshot& clock, const ServerPolicy& policy,
                                 std::span<std::uint8_t, kHeaderSize> reply) {
    // Mode first: control and private queries are often shorter than a header, and are
    // worth counting as what they are.
    if (request.empty()) {
        return Drop{DropReason::empty};
    }
    const Mode mode = mode_of(request[0]);
    if (mode == Mode::control || mode == Mode::private_use) {
        return Drop{DropReason::control_mode};
    }
    if (mode != Mode::client) {
        return Drop{DropReason::bad_mode};
    }
    const std::uint8_t version = version_of(request[0]);
    if (version < policy.min_version || version > policy.max_version) {
        return Drop{DropReason::bad_version};
    }
    if (request.size() < kHeaderSize) {
        return Drop{DropReason::too_short};
    }
    const TrailerSummary trailer = scan_trailer(request.subspan(kHeaderSize));
    if (trailer.error != ExtensionError::none) {
        return Drop{DropReason::bad_extension};
    }
    if (trailer.mac_length != 0) {
        return Drop{DropReason::authenticated};
    }

    Header h;
    h.version = version;
    h.mode = Mode::server;
    h.poll = static_cast<std::int8_t>(request[2]);
    h.precision = clock.precision;
    if (clock.synchronized) {
        h.leap = clock.leap;
        h.stratum = clock.stratum;
        h.refid = clock.refid;
        h.root_delay = NtpShort::from_seconds(clock.root_delay_s);
        h.root_dispersion = NtpShort::from_seconds(root_dispersion_at(clock, received));
        h.reference = to_ntp(clock.reference_time);
    } else {
        // RFC 5905: an unsynchronized server says so with LI=3 and stratum 0 (16 on the
        // wire is 0), and gives no reference time that a client could mistake for truth.
        h.leap = Leap::unsynchronized;
        h.stratum = 0;
        h.root_delay = NtpShort::from_seconds(clock.root_delay_s);
        h.root_dispersion = NtpShort::from_seconds(root_dispersion_at(clock, received));
    }
    // Origin is copied from the request below, octet for octet.
    h.receive = to_ntp(received);
    encode_header(h, reply);
    std::copy_n(request.begin() + kTransmitOffset, 8, reply.begin() + kOriginOffset);
    return Reply{kHeaderSize};
}

// LI=3, stratum 0, refid = the code, no reference time; version, mode, poll, origin and
// receive stay as answer() wrote them.
void make_kiss_of_death(std::span<std::uint8_t, kHeaderSize> reply, std::uint32_t code) {
    reply[0] = static_cast<std::uint8_t>((static_cast<unsigned>(Leap::unsynchronized) << 6U) |
                                         (reply[0] & 0x3FU));
    reply[1] = 0;  // stratum 0: the refid is a kiss code
    const std::span<std::uint8_t> bytes(reply);
    store_u32(bytes.subspan(4, 4), 0);  // root delay
    store_u32(bytes.subspan(8, 4), 0);  // root dispersion
    store_u32(bytes.subspan(12, 4), code);
    store_u64(bytes.subspan(16, 8), 0);  // reference timestamp
}

// RFC 9769: a client in interleaved mode puts our receive timestamp of its previous exchange
// in the origin field and its own receive time of our reply in the receive field; a basic
// client's origin is zero or its previous transmit time. When the named reply is ours, to
// this client, the answer carries that reply's transmit time and echoes the receive field
// as origin, which is how the client tells the modes apart.
void answer_interleaved(const InterleavedTable& table, const Arrival& arrival,
                        std::span<const std::uint8_t> request,
                        std::span<std::uint8_t, kHeaderSize> reply, Reply& answer) {
    const NtpTimestamp origin{load_u64(request.subspan(kOriginOffset, 8))};
    const std::uint64_t receive = load_u64(request.subspan(kReceiveOffset, 8));
    const std::uint64_t transmit = load_u64(request.subspan(kTransmitOffset, 8));
    if (origin.is_zero() || origin.raw == receive || origin.raw == transmit) {
        return;
    }
    answer.record = true;
    const auto previous = table.find(origin, arrival.source);
    if (!previous) {
        return;
    }
    const std::span<std::uint8_t> bytes(reply);
    store_u64(bytes.subspan(kOriginOffset, 8), receive);
    store_u64(bytes.subspan(kTransmitOffset, 8), previous->transmit.raw);
    answer.interleaved = true;
    answer.transmit_source = previous->source;
}

}  // namespace

Decision handle(const ServerRules& rules, const Arrival& arrival,
                std::span<const std::uint8_t> request, const ClockSnapshot& clock,
                std::uint64_t random, std::span<std::uint8_t> whole_reply, const NtsVerifier& nts) {
    const std::span<std::uint8_t, kHeaderSize> reply = whole_reply.first<kHeaderSize>();
    const AccessAction access =
        rules.access != nullptr ? rules.access->check(arrival.source) : AccessAction::allow;
    if (access == AccessAction::ignore) {
        return Drop{DropReason::ignored};
    }
    const auto answered = answer(request, arrival.served_receive, clock, rules.policy, reply);
    if (const auto* drop = std::get_if<Drop>(&answered)) {
        return *drop;
    }
    const std::size_t length = std::get<Reply>(answered).length;
    // Denied sources are rate limited like every other: a KoD DENY is still a reply. A drop
    // comes before any cryptography, so that a flood costs none.
    const RateVerdict verdict =
        rules.limiter != nullptr
            ? rules.limiter->check(source_key(arrival.source, rules.ipv6_prefix),
                                   arrival.kernel_receive, random)
            : RateVerdict::allow;
    if (verdict == RateVerdict::drop) {
        return Drop{DropReason::rate_limited};
    }
    // NTS before any kiss-of-death: RFC 8915 section 5.7 tells an NTS client to ignore an
    // unauthenticated KoD other than NTSN, so a RATE or DENY must carry the request's NTS
    // fields to be heeded (chrony's NCR_ProcessRxUnknown checks authentication first too).
    const NtsCheck checked = check_nts_request(nts, request);
    switch (checked.kind) {
        case NtsCheck::Kind::plain:
        case NtsCheck::Kind::authentic:
            break;
        case NtsCheck::Kind::malformed:
            return Drop{DropReason::bad_nts};
        case NtsCheck::Kind::nak: {
            // A client over its rate is not sent a NAK, which would invite a new NTS-KE
            // handshake at the rate it is already over (chrony does not answer it either).
            if (verdict == RateVerdict::kod) {
                return Drop{DropReason::rate_limited};
            }
            make_kiss_of_death(reply, kKissNtsNak);
            const std::size_t nak = append_nts_nak(whole_reply, checked.unique_id);
            // Never longer than the request (it carried the same identifier and more).
            return KissOfDeath{nak != 0 && nak <= request.size() ? nak : length, kKissNtsNak,
                               checked};
        }
    }
    if (access == AccessAction::deny || verdict == RateVerdict::kod) {
        const std::uint32_t code = access == AccessAction::deny ? kKissDeny : kKissRate;
        make_kiss_of_death(reply, code);
        return KissOfDeath{length, code, checked};
    }
    Reply result{length, verdict == RateVerdict::leak};
    result.nts = checked;
    if (rules.interleaved != nullptr) {
        answer_interleaved(*rules.interleaved, arrival, request, reply, result);
    }
    return result;
}

NtpTimestamp receive_of(std::span<const std::uint8_t, kHeaderSize> reply) {
    return NtpTimestamp{load_u64(std::span<const std::uint8_t>(reply).subspan(kReceiveOffset, 8))};
}

void stamp_transmit(std::span<std::uint8_t, kHeaderSize> reply, UnixTime transmit) {
    store_u64(std::span<std::uint8_t>(reply).subspan(kTransmitOffset, 8), to_ntp(transmit).raw);
}

}  // namespace cloudtime::proto
