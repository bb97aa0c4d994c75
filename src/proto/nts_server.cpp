// SPDX-License-Identifier: Apache-2.0
#include "proto/nts_server.hpp"

#include <algorithm>

namespace cloudtime::proto {

NtsCheck check_nts_request(const NtsVerifier& verifier, std::span<const std::uint8_t> request) {
    NtsCheck check;
    if (verifier.siv == nullptr || verifier.ring == nullptr || verifier.ring->empty()) {
        return check;  // NTS off: answered as plain NTP, as before
    }
    const NtsRequestRead read = read_nts_request(request);
    if (read.problem == NtsRequestProblem::not_nts) {
        return check;
    }
    if (read.problem != NtsRequestProblem::none) {
        check.kind = NtsCheck::Kind::malformed;
        check.problem = read.problem;
        return check;
    }
    check.unique_id = read.request.unique_id;
    const OpenedCookie opened = open_cookie(*verifier.siv, *verifier.ring, read.request.cookie);
    if (opened.problem != CookieProblem::none) {
        check.kind = NtsCheck::Kind::nak;
        check.cookie = opened.problem;
        return check;
    }
    const std::size_t wanted =
        verify_nts_request(*verifier.siv, opened.keys.c2s, request, read.request);
    if (wanted == 0) {
        check.kind = NtsCheck::Kind::nak;
        check.cookie = CookieProblem::forged;  // the request's authenticator, not the cookie
        return check;
    }
    check.kind = NtsCheck::Kind::authentic;
    check.keys = opened.keys;
    check.cookies = std::min(wanted, kMaxNtsCookies);
    return check;
}

}  // namespace cloudtime::proto
