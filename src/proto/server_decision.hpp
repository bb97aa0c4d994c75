// The server's whole decision for one datagram, without I/O:
// (request, receive timestamp, clock snapshot, policy) -> reply | drop(reason).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>

#include "proto/clock_snapshot.hpp"
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
};
inline constexpr std::size_t kDropReasonCount = 9;

const char* drop_reason_name(DropReason reason);

struct ServerPolicy {
    std::uint8_t min_version = 3;
    std::uint8_t max_version = 4;
};

struct Reply {
    std::size_t length = 0;  // octets written at the start of the reply buffer
};
struct Drop {
    DropReason reason = DropReason::empty;
};
using Decision = std::variant<Reply, Drop>;

// Writes the reply's header into `reply` (which holds at least kHeaderSize octets), all but
// the transmit timestamp: that is stamped by the caller as late as it can, with
// stamp_transmit(). The reply is never longer than the request.
Decision decide(std::span<const std::uint8_t> request, UnixTime received,
                const ClockSnapshot& clock, const ServerPolicy& policy,
                std::span<std::uint8_t, kHeaderSize> reply);

void stamp_transmit(std::span<std::uint8_t, kHeaderSize> reply, UnixTime transmit);

// Kiss codes a server sends (RFC 5905 section 7.4), as refids.
inline constexpr std::uint32_t kKissRate = 0x5241'5445U;  // "RATE": slow down
inline constexpr std::uint32_t kKissDeny = 0x4445'4E59U;  // "DENY": stop, access denied

// Turns a reply that decide() wrote into a kiss-of-death: LI=3, stratum 0, refid = the code,
// no reference time; version, mode, poll, origin and receive stay as they were.
void make_kiss_of_death(std::span<std::uint8_t, kHeaderSize> reply, std::uint32_t code);

}  // namespace cloudtime::proto
