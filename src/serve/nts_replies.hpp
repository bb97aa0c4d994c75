// SPDX-License-Identifier: Apache-2.0
// The NTS part of a worker (RFC 8915 section 5.7): its own AES-SIV context, and for a reply
// the fresh cookies made before its transmit time is read, sealed with the client's S2C key
// right after it (the authenticator covers the transmit timestamp), as chrony does. What one
// reply needs in between is its NtsReply, part of its slot (serve/reply_transmit.hpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "proto/aes_siv.hpp"
#include "proto/nts_cookie.hpp"
#include "proto/nts_fields.hpp"
#include "proto/nts_server.hpp"

namespace cloudtime::server {

// One reply's NTS fields between its decision and its seal.
struct NtsReply {
    bool active = false;  // the reply is to be sealed
    proto::SivKey s2c{};
    std::span<const std::uint8_t> unique_id;  // in the batch's request buffer
    std::array<std::array<std::uint8_t, proto::kCookieLength>, proto::kMaxNtsCookies> cookies{};
    std::size_t count = 0;
    std::array<std::uint8_t, proto::kNtsNonceLength> nonce{};
    std::size_t request_length = 0;
};

class NtsReplies {
  public:
    // What handle() needs to check requests: this worker's context and the ring (null: off).
    proto::NtsVerifier verifier(const proto::CookieKeyring* ring) { return {&siv_, ring}; }

    // Before the transmit time: the reply's cookies under the ring's current key, and its
    // nonce. False when no random octets or no key could be had: the request goes unanswered.
    bool prepare(NtsReply& reply, const proto::NtsCheck& check, const proto::CookieKeyring& ring,
                 std::size_t request_length);

    // After the transmit time is written into `packet`: its NTS fields; the reply's length
    // (0: it could not be sealed and must not go).
    std::size_t seal(NtsReply& reply, std::span<std::uint8_t> packet);

  private:
    // Random octets for nonces, drawn from OpenSSL's generator a pool at a time: a draw of its
    // own per reply (two: the cookies' nonces, the reply's) was 5 % of the NTS path's CPU,
    // mostly the generator re-keying itself per call. Nonces go out in the clear; the pool
    // only has to be unpredictable until used. False when the generator fails.
    bool take_random(std::span<std::uint8_t> out);

    proto::AesSiv siv_;
    std::array<std::uint8_t, 4096> random_{};
    std::size_t random_used_ = random_.size();
};

}  // namespace cloudtime::server
