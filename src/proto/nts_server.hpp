// SPDX-License-Identifier: Apache-2.0
// The server's NTS decision for one request (RFC 8915 section 5): not NTS (plain NTP), NTS
// but malformed (dropped), a cookie or authenticator that does not verify (a NAK), or
// authentic: the client's S2C key and how many fresh cookies its reply carries. Pure: the
// worker's AES-SIV context and the key ring in force are passed in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "proto/aes_siv.hpp"
#include "proto/nts_cookie.hpp"
#include "proto/nts_fields.hpp"

namespace cloudtime::proto {

// What a worker brings to NTS: its own AES-SIV context and the master keys in force. Without
// either (NTS off), every request is plain NTP and NTS fields are not looked at.
struct NtsVerifier {
    AesSiv* siv = nullptr;
    const CookieKeyring* ring = nullptr;
};

struct NtsCheck {
    enum class Kind : std::uint8_t { plain, malformed, nak, authentic };
    Kind kind = Kind::plain;
    NtsRequestProblem problem = NtsRequestProblem::none;  // when malformed
    CookieProblem cookie = CookieProblem::none;           // when a NAK for the cookie
    std::span<const std::uint8_t> unique_id;              // to echo (nak, authentic)
    NtsKeys keys;                                         // when authentic
    std::size_t cookies = 0;                              // fresh ones to send (1-8)
};

NtsCheck check_nts_request(const NtsVerifier& verifier, std::span<const std::uint8_t> request);

}  // namespace cloudtime::proto
