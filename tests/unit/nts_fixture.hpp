// SPDX-License-Identifier: Apache-2.0
// An NTS client's side, for the unit tests: a key ring, the keys an NTS-KE handshake would
// have agreed, cookies under any master key and requests that carry them.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "proto/aes_siv.hpp"
#include "proto/nts_cookie.hpp"
#include "proto/nts_fields.hpp"

namespace cloudtime::test {

using Bytes = std::vector<std::uint8_t>;

inline proto::SivKey key_filled(std::uint8_t v) {
    proto::SivKey k{};
    k.fill(v);
    return k;
}

inline std::array<std::uint8_t, proto::kNtsNonceLength> nonce_filled(std::uint8_t v) {
    std::array<std::uint8_t, proto::kNtsNonceLength> n{};
    n.fill(v);
    return n;
}

struct NtsFixture {
    proto::AesSiv siv;
    proto::CookieKeyring ring{
        {proto::CookieKey{7, key_filled(0x11)}, proto::CookieKey{6, key_filled(0x22)}}};
    proto::NtsKeys keys{key_filled(0xC2), key_filled(0x5C)};
    Bytes unique_id = Bytes(32, 0xAB);

    Bytes cookie(const proto::CookieKey& master, std::uint8_t nonce = 1) {
        Bytes out(proto::kCookieLength);
        const auto n = std::array<std::uint8_t, proto::kCookieNonceLength>{nonce};
        EXPECT_TRUE(
            seal_cookie(siv, master, keys, n, std::span<std::uint8_t, proto::kCookieLength>(out)));
        return out;
    }

    // A version 4 client request carrying `with_cookie` and `placeholders` placeholders.
    Bytes request(std::size_t placeholders, const Bytes& with_cookie) {
        Bytes packet(2048, 0);  // the largest request the server reads
        packet[0] = 0x23;       // version 4, client
        const auto nonce = nonce_filled(3);
        const std::size_t n =
            append_nts_request(siv, keys.c2s, packet, unique_id, with_cookie, placeholders, nonce);
        EXPECT_GT(n, 0U);
        packet.resize(n);
        return packet;
    }
};

}  // namespace cloudtime::test
