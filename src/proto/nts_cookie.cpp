// SPDX-License-Identifier: Apache-2.0
#include "proto/nts_cookie.hpp"

#include <algorithm>
#include <array>

#include "proto/packet.hpp"

namespace cloudtime::proto {

namespace {
constexpr std::size_t kIdLength = 4;
constexpr std::size_t kSealedLength = kSivTagLength + 2 * kSivKeyLength;
}  // namespace

const CookieKey* CookieKeyring::find(std::uint32_t id) const {
    const auto it =
        std::find_if(keys_.begin(), keys_.end(), [id](const CookieKey& k) { return k.id == id; });
    return it != keys_.end() ? &*it : nullptr;
}

bool seal_cookie(AesSiv& siv, const CookieKey& master, const NtsKeys& keys,
                 std::span<const std::uint8_t, kCookieNonceLength> nonce,
                 std::span<std::uint8_t, kCookieLength> out) {
    store_u32(out, master.id);
    std::copy(nonce.begin(), nonce.end(), out.begin() + kIdLength);
    std::array<std::uint8_t, 2 * kSivKeyLength> plaintext{};
    std::copy(keys.c2s.begin(), keys.c2s.end(), plaintext.begin());
    std::copy(keys.s2c.begin(), keys.s2c.end(), plaintext.begin() + kSivKeyLength);
    const bool sealed = siv.seal(master.key, {out.first(kIdLength), nonce}, plaintext,
                                 out.subspan(kIdLength + kCookieNonceLength));
    std::fill(plaintext.begin(), plaintext.end(), 0);
    return sealed;
}

OpenedCookie open_cookie(AesSiv& siv, const CookieKeyring& ring,
                         std::span<const std::uint8_t> cookie) {
    if (cookie.size() != kCookieLength) {
        return {CookieProblem::wrong_length, {}};
    }
    const CookieKey* master = ring.find(load_u32(cookie));
    if (master == nullptr) {
        return {CookieProblem::unknown_key, {}};
    }
    std::array<std::uint8_t, 2 * kSivKeyLength> plaintext{};
    if (!siv.open(master->key,
                  {cookie.first(kIdLength), cookie.subspan(kIdLength, kCookieNonceLength)},
                  cookie.subspan(kIdLength + kCookieNonceLength, kSealedLength), plaintext)) {
        return {CookieProblem::forged, {}};
    }
    OpenedCookie opened;
    std::copy_n(plaintext.begin(), kSivKeyLength, opened.keys.c2s.begin());
    std::copy_n(plaintext.begin() + kSivKeyLength, kSivKeyLength, opened.keys.s2c.begin());
    std::fill(plaintext.begin(), plaintext.end(), 0);
    return opened;
}

}  // namespace cloudtime::proto
