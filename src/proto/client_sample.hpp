// SPDX-License-Identifier: Apache-2.0
// The client side of one exchange: checking a server's reply against the request and the
// RFC 5905 arithmetic (offset, delay, dispersion, jitter) over samples.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "proto/packet.hpp"
#include "proto/timestamp.hpp"

namespace cloudtime::proto {

// Everything zero but the version, the mode and a random transmit timestamp, which is not
// a time but a nonce the reply must echo (data minimization, as RFC 9109 suggests).
std::array<std::uint8_t, kHeaderSize> make_client_request(std::uint64_t nonce);

// RFC 9769: a request in interleaved mode names the previous exchange: origin = the server's
// receive timestamp from the previous reply, receive = our receive time of that reply. A
// server that does interleaved mode answers with origin = that receive field and transmit =
// the exact transmit time of the previous reply; one that does not answers in basic mode
// (origin = the nonce).
std::array<std::uint8_t, kHeaderSize> make_interleaved_request(std::uint64_t nonce,
                                                               NtpTimestamp server_receive,
                                                               NtpTimestamp client_receive);

enum class ReplyVerdict : std::uint8_t {
    ok,
    not_server_mode,  // not mode 4: not an answer to a client
    origin_mismatch,  // not an answer to our request (spoofed, late or duplicate)
    kiss_of_death,    // stratum 0 with a kiss code in the refid: stop or slow down
    unsynchronized,   // LI=3 or stratum 0/>=16: the server does not know the time
    zero_transmit,    // a transmit timestamp of zero is no time at all
};

const char* reply_verdict_name(ReplyVerdict verdict);

ReplyVerdict check_reply(const Header& reply, NtpTimestamp request_transmit);

// T1 sent by us, T2 received by the server, T3 sent by the server, T4 received by us.
struct ExchangeTimes {
    UnixTime t1;
    UnixTime t2;
    UnixTime t3;
    UnixTime t4;
};

struct Sample {
    double offset_s = 0.0;      // server clock minus ours
    double delay_s = 0.0;       // round trip without the server's processing
    double dispersion_s = 0.0;  // precision of both clocks plus PHI * round trip
    Header header;
};

// Builds a sample from a checked reply; the server's timestamps are put in the era nearest T1.
Sample make_sample(const Header& reply, UnixTime t1, UnixTime t4, std::int8_t client_precision);

struct SampleSummary {
    std::size_t best_index = 0;  // the sample with the smallest delay
    double offset_s = 0.0;
    double delay_s = 0.0;
    double dispersion_s = 0.0;
    double jitter_s = 0.0;  // RMS of the other samples' offsets from the best one
};

// nullopt for no samples.
std::optional<SampleSummary> summarize(std::span<const Sample> samples);

}  // namespace cloudtime::proto
