// SPDX-License-Identifier: Apache-2.0
// The server's whole decision for one datagram, without I/O: access list, request checks,
// rate limit, kiss-of-death, reply. Time and randomness come in; nothing is read or sent here.
// The order is chrony's NCR_ProcessRxUnknown and ntpd-rs's server: a source the access list
// ignores costs nothing more; a request that is no valid client request is dropped before it
// can spend the source's rate; then the limiter drops what it drops; then NTS is checked, so
// that a kiss-of-death to an NTS client is authenticated; then reply, leak or KoD.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>

#include "proto/access_list.hpp"
#include "proto/clock_snapshot.hpp"
#include "proto/interleaved_table.hpp"
#include "proto/nts_server.hpp"
#include "proto/packet.hpp"
#include "proto/rate_limiter.hpp"
#include "proto/timestamp.hpp"

namespace cloudtime::proto {

enum class DropReason : std::uint8_t {
    empty,          // a datagram with no octets at all
    control_mode,   // mode 6 or 7: never answered, they are amplification vectors
    bad_mode,       // any other mode than 3 (client)
    bad_version,    // outside the accepted versions
    too_short,      // shorter than the 48-octet header
    bad_extension,  // extension fields that break RFC 7822's length rules
    authenticated,  // carries a legacy MAC; symmetric keys are not supported
    rate_limited,   // over its source's rate, neither leaked nor sent a KoD
    ignored,        // the access list says to ignore this source
    bad_nts,        // NTS fields that break RFC 8915's rules (NTS on)
};
inline constexpr std::size_t kDropReasonCount = 10;

const char* drop_reason_name(DropReason reason);

struct ServerPolicy {
    std::uint8_t min_version = 3;
    std::uint8_t max_version = 4;
};

// What the server applies to every datagram besides the clock. The limiter is shared by all
// workers (lock-free); null pointers mean "every source allowed" and "no limiting".
struct ServerRules {
    ServerPolicy policy;
    const AccessList* access = nullptr;
    RateLimiter* limiter = nullptr;
    std::uint8_t ipv6_prefix = 64;  // the limiter's unit for IPv6 sources
    // The records of replies sent (shared by every worker); null: basic mode only.
    const InterleavedTable* interleaved = nullptr;
};

struct Arrival {
    Address16 source{};       // IPv4 as IPv4-mapped IPv6
    UnixTime kernel_receive;  // the kernel's receive time: the rate limiter's clock
    UnixTime served_receive;  // the receive timestamp the reply carries (smeared in a window)
};

struct Reply {
    std::size_t length = 0;  // octets written at the start of the reply buffer
    bool leaked = false;     // over the rate limit, answered anyway (RFC 8633's leak)
    // RFC 9769: the request named an earlier reply of ours to this client, and this reply
    // carries that reply's transmit time (from `transmit_source`), already written.
    bool interleaved = false;
    TransmitSource transmit_source = TransmitSource::daemon;
    // The request looked interleaved (whether or not its exchange was found): this reply is
    // worth a record, since the client's next request will name it. Basic clients never get
    // one, so that they cost the table nothing and cannot push interleaved clients out
    // (chrony's server does the same).
    bool record = false;
    // NTS (kind authentic): the reply's header is written; its NTS fields (the unique id, the
    // fresh cookies under the S2C key) are added by the worker once the transmit time is.
    NtsCheck nts{};
};
struct KissOfDeath {
    std::size_t length = 0;  // an NTS NAK carries the request's unique identifier too
    std::uint32_t code = kKissRate;
    // The request's NTS check. NTSN: a NAK, `cookie` says why. RATE or DENY to an NTS client
    // (kind authentic): the header is written; the worker authenticates it as a reply, with
    // fresh cookies, once the transmit time is, so that the client heeds it.
    NtsCheck nts{};
};
struct Drop {
    DropReason reason = DropReason::empty;
};
using Decision = std::variant<Reply, KissOfDeath, Drop>;

// Writes a reply or kiss-of-death into `reply` (at least kHeaderSize octets; room for a reply
// as long as the request when NTS is on), all but the transmit timestamp of a basic reply:
// the caller stamps that as late as it can, with stamp_transmit(). An interleaved reply is
// whole (its transmit time is the earlier reply's). Whatever is written is never longer than
// the request. `random` is any well-mixed 64-bit value; it decides which limited requests
// leak or get a KoD. With `nts` (the worker's AES-SIV and the key ring), NTS requests are
// checked after the rate limit has dropped what it drops (a flood costs no cryptography) and
// before any kiss-of-death: malformed ones dropped, bad cookies or authenticators NAKed (but
// not when over the rate), authentic ones answered (Reply::nts) or sent an authenticated
// RATE or DENY (KissOfDeath::nts).
Decision handle(const ServerRules& rules, const Arrival& arrival,
                std::span<const std::uint8_t> request, const ClockSnapshot& clock,
                std::uint64_t random, std::span<std::uint8_t> reply, const NtsVerifier& nts = {});

void stamp_transmit(std::span<std::uint8_t, kHeaderSize> reply, UnixTime transmit);

// The receive timestamp a reply carries: what the client will name in an interleaved request.
NtpTimestamp receive_of(std::span<const std::uint8_t, kHeaderSize> reply);

}  // namespace cloudtime::proto
