// SPDX-License-Identifier: Apache-2.0
// NTS extension fields in NTP packets (RFC 8915 section 5): what a request must carry, its
// authenticator checked with the client's C2S key, and the server's reply fields (the unique
// identifier echoed, fresh cookies encrypted under the S2C key, or a NAK's bare identifier).
// The client's side too, for `cloudtime query --nts` and the load generator. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "proto/aes_siv.hpp"

namespace cloudtime::proto {

inline constexpr std::uint16_t kEfUniqueIdentifier = 0x0104;
inline constexpr std::uint16_t kEfCookie = 0x0204;
inline constexpr std::uint16_t kEfCookiePlaceholder = 0x0304;
inline constexpr std::uint16_t kEfAuthenticator = 0x0404;
inline constexpr std::size_t kMinUniqueIdLength = 32;
// RFC 8915 section 5.6: the nonce field, with its padding, is at least this long.
inline constexpr std::size_t kMinNoncePaddedLength = 16;
inline constexpr std::size_t kNtsNonceLength = 16;
inline constexpr std::size_t kMaxNtsCookies = 8;

enum class NtsRequestProblem : std::uint8_t {
    none,
    not_nts,                // no NTS field at all: plain NTP
    malformed_fields,       // the extension fields themselves, or a legacy MAC beside NTS
    unique_id_missing,      // or repeated, or shorter than 32 octets
    cookie_missing,         // or repeated
    placeholder_length,     // a placeholder not as long as the cookie
    authenticator_missing,  // or not the last field
    authenticator_malformed,
};

const char* nts_request_problem_name(NtsRequestProblem problem);

struct NtsRequest {
    std::span<const std::uint8_t> unique_id;
    std::span<const std::uint8_t> cookie;
    std::size_t placeholders = 0;   // outside the encrypted part
    std::size_t authenticated = 0;  // octets of the packet before the authenticator
    std::span<const std::uint8_t> nonce;
    std::span<const std::uint8_t> ciphertext;  // tag || encrypted fields
};

struct NtsRequestRead {
    NtsRequestProblem problem = NtsRequestProblem::none;
    NtsRequest request;
};

// Reads the NTS fields of a whole request datagram (header included).
NtsRequestRead read_nts_request(std::span<const std::uint8_t> packet);

// Checks the authenticator with the client's C2S key; on success, the number of cookies the
// client asks for (its cookie and every placeholder, encrypted ones too), at least 1. Zero when
// the authenticator does not verify or the encrypted fields are malformed.
std::size_t verify_nts_request(AesSiv& siv, const SivKey& c2s, std::span<const std::uint8_t> packet,
                               const NtsRequest& request);

// Appends the reply's fields after its 48-octet header in `reply` (which holds exactly the
// header): the unique identifier, then the authenticator encrypting `cookies` under the S2C
// key, padded so that the reply is as long as `request_length`. Cookies that would make it
// longer are left out. Returns the reply's length, or 0 on failure.
std::size_t append_nts_reply(AesSiv& siv, const SivKey& s2c, std::span<std::uint8_t> reply,
                             std::span<const std::uint8_t> unique_id,
                             std::span<const std::span<const std::uint8_t>> cookies,
                             std::span<const std::uint8_t, kNtsNonceLength> nonce,
                             std::size_t request_length);

// A NAK (KoD NTSN) carries the unique identifier only. Returns the reply's length.
std::size_t append_nts_nak(std::span<std::uint8_t> reply, std::span<const std::uint8_t> unique_id);

// The client: a request (after the 48-octet header already in `packet`) with a unique id, a
// cookie, `placeholders` placeholders and an authenticator over all of it. Returns the length.
std::size_t append_nts_request(AesSiv& siv, const SivKey& c2s, std::span<std::uint8_t> packet,
                               std::span<const std::uint8_t> unique_id,
                               std::span<const std::uint8_t> cookie, std::size_t placeholders,
                               std::span<const std::uint8_t, kNtsNonceLength> nonce);

struct NtsReplyRead {
    enum class Status : std::uint8_t { authentic, nak, rejected };
    Status status = Status::rejected;
    std::vector<std::vector<std::uint8_t>> cookies;  // when authentic
    const char* problem = "";
};
// The client's check of a reply: our unique id echoed, authenticated with the S2C key (or a
// NAK: a KoD with our unique id and no authenticator), and the fresh cookies inside.
NtsReplyRead read_nts_reply(AesSiv& siv, const SivKey& s2c, std::span<const std::uint8_t> packet,
                            std::span<const std::uint8_t> unique_id, bool is_nak_kod);

}  // namespace cloudtime::proto
