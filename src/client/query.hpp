// SPDX-License-Identifier: Apache-2.0
// The NTP client behind `cloudtime query`: data-minimized requests to one server, replies
// checked and turned into samples.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "client/nts_session.hpp"
#include "net/socket_address.hpp"
#include "proto/client_sample.hpp"
#include "util/expected.hpp"

namespace cloudtime::client {

struct QueryOptions {
    int samples = 4;  // requests at most
    double interval_s = 1.0;
    double timeout_s = 2.0;  // per sample
    // Stop at the first answer: `samples` is then how often a lost request is tried again
    // (a probe that only needs to know the server is there).
    bool until_first_answer = false;
    // RFC 9769 interleaved mode: each request names the previous exchange, and a server that
    // does it answers with that exchange's exact transmit time; our own transmit times are
    // the kernel's too. One request more than `samples` (the first only starts the chain).
    bool interleaved = false;
};

struct Rejection {
    proto::ReplyVerdict verdict = proto::ReplyVerdict::ok;
    proto::Header header;  // the reply that was rejected
};

struct QueryResult {
    sys::SocketAddress server;
    std::vector<proto::Sample> samples;
    std::vector<bool> interleaved;  // per sample: measured in interleaved mode
    int kernel_transmit = 0;        // samples whose T1 is the kernel's stamp of our request
    int authenticated = 0;          // NTS: samples from replies that verified
    int unauthenticated = 0;        // NTS: replies ignored because they did not verify
    int sent = 0;
    int answered = 0;  // usable answers: the samples, and those that start an interleaved chain
    int lost = 0;      // no valid answer within the timeout
    std::optional<Rejection> rejection;  // KoD or unsynchronized: querying stopped there
    std::optional<proto::SampleSummary> summary;
};

// Whether querying stopped at a KoD RATE: the server is there, and asks for fewer requests.
bool rate_limited(const QueryResult& result);

// Errors are local failures (socket, send); silence from the server is counted as lost.
// With `nts`, every request is authenticated with its keys and spends one of its cookies,
// only replies that verify count, and their fresh cookies go back into it; a NAK (KoD NTSN
// with our unique identifier) stops querying.
Expected<QueryResult> query_server(const sys::SocketAddress& server, const QueryOptions& options,
                                   NtsSession* nts = nullptr);

}  // namespace cloudtime::client
