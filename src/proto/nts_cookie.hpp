// SPDX-License-Identifier: Apache-2.0
// NTS cookies (RFC 8915 section 6): the client's two keys, sealed under a master key that only
// the servers hold, so that any server holding that key can answer the client without state.
// Layout (100 octets, like chrony's): master key id (4) | nonce (16) | AES-SIV of the C2S and
// S2C keys (16 + 64), the key id authenticated as associated data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "proto/aes_siv.hpp"

namespace cloudtime::proto {

inline constexpr std::size_t kCookieNonceLength = 16;
inline constexpr std::size_t kCookieLength =
    4 + kCookieNonceLength + kSivTagLength + 2 * kSivKeyLength;

// The keys one client's NTP exchanges are protected with (exported from its TLS session).
struct NtsKeys {
    SivKey c2s{};
    SivKey s2c{};
    friend bool operator==(const NtsKeys&, const NtsKeys&) = default;
};

struct CookieKey {
    std::uint32_t id = 0;
    SivKey key{};
};

// The master keys in force: cookies are made with the first (the current one) and opened
// with any of them (the previous ones still accepted).
class CookieKeyring {
  public:
    CookieKeyring() = default;
    explicit CookieKeyring(std::vector<CookieKey> keys) : keys_(std::move(keys)) {}
    bool empty() const { return keys_.empty(); }
    const CookieKey& current() const { return keys_.front(); }
    const CookieKey* find(std::uint32_t id) const;
    std::size_t size() const { return keys_.size(); }

  private:
    std::vector<CookieKey> keys_;
};

// Seals `keys` into `out` with the master key and a fresh random `nonce`.
bool seal_cookie(AesSiv& siv, const CookieKey& master, const NtsKeys& keys,
                 std::span<const std::uint8_t, kCookieNonceLength> nonce,
                 std::span<std::uint8_t, kCookieLength> out);

enum class CookieProblem : std::uint8_t { none, wrong_length, unknown_key, forged };
struct OpenedCookie {
    CookieProblem problem = CookieProblem::none;
    NtsKeys keys;  // when no problem
};
OpenedCookie open_cookie(AesSiv& siv, const CookieKeyring& ring,
                         std::span<const std::uint8_t> cookie);

}  // namespace cloudtime::proto
