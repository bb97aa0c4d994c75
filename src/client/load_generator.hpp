// SPDX-License-Identifier: Apache-2.0
// The load generator behind `cloudtime bench`: an open-loop NTP client at a target rate, from
// many loopback source addresses, that measures what comes back. Bounded in count and time;
// refuses any target but loopback (or link-local inside a private network namespace).
#pragma once

#include <cstdint>

#include "client/nts_session.hpp"
#include "net/socket_address.hpp"
#include "util/expected.hpp"

namespace cloudtime::client {

struct LoadOptions {
    double rate = 1000.0;       // requests per second, all threads together
    double duration_s = 5.0;    // sending time; the total request count is rate * duration
    std::uint32_t sources = 1;  // distinct IPv4 source addresses from 127.0.0.0/8
    unsigned threads = 1;       // sending threads, each with its own socket (own port)
    double drain_s = 0.5;       // how long to wait for late replies after the last send
    // Every request names an exchange that never was, as an interleaved client's second
    // request does: each reply costs the server a record and a kernel transmit stamp (its
    // worst case, and what a flood aimed at interleaved mode sends).
    bool interleaved = false;
    // NTS (RFC 8915): every request carries a unique identifier, the first cookie of this
    // key establishment (a server cannot tell a cookie used twice) and an authenticator made
    // with its C2S key; every reply is verified with the S2C key. null: plain NTP.
    const NtsSession* nts = nullptr;
};

struct Percentiles {
    double p50_s = 0.0;
    double p99_s = 0.0;
    double p999_s = 0.0;
};

struct LoadReport {
    std::uint64_t sent = 0;
    std::uint64_t send_failures = 0;    // requests the local kernel would not take
    std::uint64_t answered = 0;         // valid replies (not KoD)
    std::uint64_t kod = 0;              // kiss-of-death replies
    std::uint64_t lost = 0;             // sent, never answered
    std::uint64_t nts_naks = 0;         // NTS: KoD NTSN with our unique identifier (in kod)
    std::uint64_t unauthenticated = 0;  // NTS: replies that did not verify (not answered)
    double elapsed_s = 0.0;             // sending and draining
    double sending_s = 0.0;             // first to last send (past the duration when behind)
    double reply_rate = 0.0;            // answered per second of sending
    Percentiles latency;                // client side: kernel receive minus send time
    Percentiles server_processing;      // server's transmit minus receive timestamp
};

// Loopback, or link-local inside a network namespace of the tests' own.
Status check_target_allowed(const sys::SocketAddress& target, bool in_private_namespace);

Expected<LoadReport> run_load(const sys::SocketAddress& target, const LoadOptions& options);

}  // namespace cloudtime::client
