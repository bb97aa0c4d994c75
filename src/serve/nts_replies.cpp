// SPDX-License-Identifier: Apache-2.0
#include "serve/nts_replies.hpp"

#include <openssl/rand.h>

#include <algorithm>

namespace cloudtime::server {

bool NtsReplies::prepare(NtsReply& p, const proto::NtsCheck& check,
                         const proto::CookieKeyring& ring, std::size_t request_length) {
    p.active = false;
    if (ring.empty()) {
        return false;
    }
    p.s2c = check.keys.s2c;
    p.unique_id = check.unique_id;
    p.count = std::min(check.cookies, proto::kMaxNtsCookies);
    p.request_length = request_length;
    std::array<std::uint8_t, proto::kCookieNonceLength * proto::kMaxNtsCookies> nonces{};
    if (!take_random(std::span(nonces).first(p.count * proto::kCookieNonceLength)) ||
        !take_random(p.nonce)) {
        return false;
    }
    for (std::size_t i = 0; i < p.count; ++i) {
        const auto nonce = std::span(nonces)
                               .subspan(i * proto::kCookieNonceLength)
                               .first<proto::kCookieNonceLength>();
        if (!proto::seal_cookie(siv_, ring.current(), check.keys, nonce, p.cookies[i])) {
            return false;
        }
    }
    p.active = true;
    return true;
}

bool NtsReplies::take_random(std::span<std::uint8_t> out) {
    if (out.size() > random_.size()) {
        return false;
    }
    if (random_.size() - random_used_ < out.size()) {
        if (RAND_bytes(random_.data(), static_cast<int>(random_.size())) != 1) {
            return false;
        }
        random_used_ = 0;
    }
    std::copy_n(random_.begin() + static_cast<std::ptrdiff_t>(random_used_), out.size(),
                out.begin());
    random_used_ += out.size();
    return true;
}

std::size_t NtsReplies::seal(NtsReply& p, std::span<std::uint8_t> packet) {
    p.active = false;
    std::array<std::span<const std::uint8_t>, proto::kMaxNtsCookies> cookies{};
    for (std::size_t i = 0; i < p.count; ++i) {
        cookies[i] = p.cookies[i];
    }
    return proto::append_nts_reply(siv_, p.s2c, packet, p.unique_id,
                                   std::span(cookies).first(p.count), p.nonce, p.request_length);
}

}  // namespace cloudtime::server
