// SPDX-License-Identifier: Apache-2.0
// One plain-HTTP GET (the metadata service at 169.254.169.254 speaks nothing else), bounded in
// time and size: what `cloudtime check` asks inside a VM. Boost.Beast, header-only, so that
// the static in-VM checker links no HTTP library of its own.
#pragma once

#include <cstddef>
#include <string>

#include "util/expected.hpp"

namespace cloudtime::sys {

// What a GET brought back (the server side has its own HttpResponse, http_request.hpp).
struct HttpAnswer {
    unsigned status = 0;
    std::string body;
};

// `url` is "http://HOST[:PORT]/PATH". The whole exchange (connect, send, receive) must finish
// within `timeout_s`; a body over `max_body` octets is an error. Errors say what failed in
// words ("cannot connect: Connection refused", "no answer within 2 s") and keep the errno.
Expected<HttpAnswer> http_get(const std::string& url, double timeout_s,
                              std::size_t max_body = std::size_t{1} << 20U);

}  // namespace cloudtime::sys
