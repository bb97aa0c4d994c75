// SPDX-License-Identifier: Apache-2.0
// AEAD_AES_SIV_CMAC_256 (RFC 5297; NTS's mandatory algorithm, id 15): a 32-octet key, a
// 16-octet synthetic IV first in every ciphertext. Pure computation: no I/O, keys and nonces
// are passed in. S2V's CMAC and the CTR mode are composed here over AES-128 contexts keyed
// once per key (CBC for CMAC, ECB for the counter blocks), never re-initialised per message:
// OpenSSL 3's own AES-128-SIV fetches its ciphers and builds new contexts at every key set-up,
// and even a re-initialisation with a new IV costs a parameter lookup by name. An NTS reply
// is ~4 SIV operations under 3 keys (the master key for cookies, the client's two), so the
// contexts of the last two keys are kept. One instance per thread; the hot path allocates
// nothing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>

namespace cloudtime::proto {

inline constexpr std::uint16_t kAeadAesSivCmac256 = 15;
inline constexpr std::size_t kSivKeyLength = 32;
inline constexpr std::size_t kSivTagLength = 16;

using SivKey = std::array<std::uint8_t, kSivKeyLength>;
using Octets = std::span<const std::uint8_t>;

class AesSiv {
  public:
    AesSiv();
    ~AesSiv();
    AesSiv(AesSiv&&) noexcept;
    AesSiv& operator=(AesSiv&&) noexcept;
    AesSiv(const AesSiv&) = delete;
    AesSiv& operator=(const AesSiv&) = delete;

    // False when OpenSSL's providers offer no AES-128-SIV (every call then fails).
    bool available() const;

    // Writes tag || ciphertext (plaintext.size() + 16 octets) to `out`, which must be that
    // long. `associated` are RFC 5297's associated-data components in order (an AEAD nonce
    // goes last, as RFC 5297 section 3 says); none may be empty.
    bool seal(const SivKey& key, std::initializer_list<Octets> associated, Octets plaintext,
              std::span<std::uint8_t> out);
    // Checks and decrypts tag || ciphertext into `out` (ciphertext.size() - 16 octets); false
    // when it is shorter than a tag, `out` has the wrong size, or the tag does not match.
    bool open(const SivKey& key, std::initializer_list<Octets> associated, Octets ciphertext,
              std::span<std::uint8_t> out);

  private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace cloudtime::proto
