// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: NTS extension fields in NTP requests and replies. The first octet picks
// what the rest is: 0, a raw datagram; 1, a genuine request (its placeholders counted by the
// second octet) changed at the offsets and by the values that follow, so that the cookie,
// the authenticator and the reply are reached.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "proto/nts_cookie.hpp"
#include "proto/nts_fields.hpp"
#include "proto/packet.hpp"

namespace p = cloudtime::proto;

namespace {

struct Fixed {
    p::AesSiv siv;
    p::CookieKeyring ring{{p::CookieKey{1, p::SivKey{1}}, p::CookieKey{2, p::SivKey{2}}}};
    p::NtsKeys keys{p::SivKey{3}, p::SivKey{4}};
    std::vector<std::uint8_t> unique_id = std::vector<std::uint8_t>(32, 5);
    std::array<std::uint8_t, p::kNtsNonceLength> nonce{6};
};

std::vector<std::uint8_t> genuine_request(Fixed& f, std::size_t placeholders) {
    std::vector<std::uint8_t> cookie(p::kCookieLength);
    const std::array<std::uint8_t, p::kCookieNonceLength> cookie_nonce{7};
    if (!p::seal_cookie(f.siv, f.ring.current(), f.keys, cookie_nonce,
                        std::span<std::uint8_t, p::kCookieLength>(cookie))) {
        std::abort();
    }
    std::vector<std::uint8_t> packet(2048, 0);
    packet[0] = 0x23;
    packet.resize(p::append_nts_request(f.siv, f.keys.c2s, packet, f.unique_id, cookie,
                                        placeholders, f.nonce));
    return packet;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Fixed f;
    if (size < 2) {
        return 0;
    }
    std::vector<std::uint8_t> packet;
    if (data[0] == 1) {
        packet = genuine_request(f, data[1] % 9);
        const bool untouched = size < 4;
        for (std::size_t i = 2; i + 1 < size; i += 2) {
            packet[data[i] * 4U % packet.size()] ^= data[i + 1];
        }
        const p::NtsRequestRead read = p::read_nts_request(packet);
        if (untouched && read.problem != p::NtsRequestProblem::none) {
            std::abort();  // a genuine request must read
        }
    } else {
        packet.assign(data + 1, data + size);
    }
    const p::NtsRequestRead read = p::read_nts_request(packet);
    if (read.problem == p::NtsRequestProblem::none) {
        const p::OpenedCookie opened = p::open_cookie(f.siv, f.ring, read.request.cookie);
        if (opened.problem == p::CookieProblem::none) {
            const std::size_t wanted =
                p::verify_nts_request(f.siv, opened.keys.c2s, packet, read.request);
            const std::vector<std::uint8_t> cookie(p::kCookieLength, 8);
            const std::vector<std::span<const std::uint8_t>> cookies(
                std::min(wanted, p::kMaxNtsCookies), cookie);
            std::vector<std::uint8_t> reply(2048, 0);
            const std::size_t n =
                p::append_nts_reply(f.siv, opened.keys.s2c, reply, read.request.unique_id, cookies,
                                    f.nonce, packet.size());
            if (wanted > 0 && (n == 0 || n > packet.size())) {
                std::abort();  // a verified request is answered, never with a longer reply
            }
        }
    }
    (void)p::read_nts_reply(f.siv, f.keys.s2c, packet, f.unique_id, false);
    return 0;
}
