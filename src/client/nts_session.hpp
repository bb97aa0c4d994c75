// SPDX-License-Identifier: Apache-2.0
// The client's side of NTS (RFC 8915): key establishment over TLS with a server, and the keys
// and cookies its NTP exchanges then use. Each exchange spends a cookie and gets fresh ones.
// (cloudtime-vm, the static checker for guests, is built without NTS: client/nts_absent.cpp.)
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "net/socket_address.hpp"
#include "proto/nts_cookie.hpp"
#include "util/expected.hpp"

namespace cloudtime::client {

inline constexpr std::uint16_t kNtsKePort = 4460;

struct NtsSession {
    proto::NtsKeys keys;
    std::vector<std::vector<std::uint8_t>> cookies;
    sys::SocketAddress ke_server;
    sys::SocketAddress ntp_server;  // what the key establishment named, else the same host
    int cookies_received = 0;       // from the key establishment and every reply since
};

// What one NTS request must remember to check its reply.
struct NtsRequestState {
    std::array<std::uint8_t, 32> unique_id{};
};

// Appends the NTS fields to `packet`, whose first 48 octets are the request's header: a fresh
// unique identifier, one of the session's cookies (spent), placeholders for as many as make
// eight again, the authenticator. Returns the request's length.
Expected<std::size_t> add_nts_fields(NtsSession& session, NtsRequestState& state,
                                     std::span<std::uint8_t> packet);
// Whether a reply counts: it verifies (its fresh cookies join the session), or it is a NAK
// (`nak`: a KoD NTSN) with our unique identifier. False: ignore it, it may be forged.
bool accept_nts_reply(NtsSession& session, const NtsRequestState& state,
                      std::span<const std::uint8_t> reply, bool nak);

// NTS-KE with `host` (a name or address the certificate must name) on `ke_port`, trusting
// `ca_file` (empty: the system's store). The NTP server is the one the answer names, else
// `host` on `ntp_port`.
Expected<NtsSession> establish_nts(const std::string& host, std::uint16_t ke_port,
                                   std::uint16_t ntp_port, const std::string& ca_file,
                                   double timeout_s);

}  // namespace cloudtime::client
