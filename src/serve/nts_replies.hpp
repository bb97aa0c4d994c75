// The NTS part of a worker (RFC 8915 section 5.7): its own AES-SIV context, and for each reply
// of a batch the fresh cookies made before its transmit time is read, sealed with the client's
// S2C key right after it (the authenticator covers the transmit timestamp), as chrony does.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "proto/aes_siv.hpp"
#include "proto/nts_cookie.hpp"
#include "proto/nts_fields.hpp"
#include "proto/nts_server.hpp"

namespace cloudtime::server {

class NtsReplies {
  public:
    explicit NtsReplies(std::size_t batch_size) : pending_(batch_size) {}

    // What handle() needs to check requests: this worker's context and the ring (null: off).
    proto::NtsVerifier verifier(const proto::CookieKeyring* ring) { return {&siv_, ring}; }

    // Before the transmit time: reply r's cookies under the ring's current key, and its nonce.
    // False when no random octets or no key could be had: the request goes unanswered.
    bool prepare(std::size_t r, const proto::NtsCheck& check, const proto::CookieKeyring& ring,
                 std::size_t request_length);
    void clear(std::size_t r) { pending_[r].active = false; }
    bool active(std::size_t r) const { return pending_[r].active; }

    // After the transmit time is written into `reply`: its NTS fields; the reply's length
    // (0: it could not be sealed and must not go).
    std::size_t seal(std::size_t r, std::span<std::uint8_t> reply);

  private:
    // Random octets for nonces, drawn from OpenSSL's generator a pool at a time: a draw of its
    // own per reply (two: the cookies' nonces, the reply's) was 5 % of the NTS path's CPU,
    // mostly the generator re-keying itself per call. Nonces go out in the clear; the pool
    // only has to be unpredictable until used. False when the generator fails.
    bool take_random(std::span<std::uint8_t> out);

    struct Pending {
        bool active = false;
        proto::SivKey s2c{};
        std::span<const std::uint8_t> unique_id;  // in the batch's request buffer
        std::array<std::array<std::uint8_t, proto::kCookieLength>, proto::kMaxNtsCookies> cookies{};
        std::size_t count = 0;
        std::array<std::uint8_t, proto::kNtsNonceLength> nonce{};
        std::size_t request_length = 0;
    };
    proto::AesSiv siv_;
    std::vector<Pending> pending_;
    std::array<std::uint8_t, 4096> random_{};
    std::size_t random_used_ = random_.size();
};

}  // namespace cloudtime::server
