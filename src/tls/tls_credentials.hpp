// SPDX-License-Identifier: Apache-2.0
// A server's TLS certificate chain and private key, as read (as root, before privileges drop)
// from the files the config names, and the checks that they make a usable pair.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <string>

#include "util/expected.hpp"

namespace cloudtime::sys {

struct TlsCredentials {
    std::string certificate_chain_pem;
    std::string private_key_pem;
};

// A server context, TLS 1.2 or newer, with this chain and key; an error when either is
// unusable or they are not a pair.
Expected<boost::asio::ssl::context> tls_server_context(const TlsCredentials& tls);

// Whether a server could use these: a PEM chain and the private key that matches it.
Status check_tls_credentials(const TlsCredentials& tls);

// When the chain's first certificate (the server's own) stops being valid: its notAfter, in
// Unix seconds.
Expected<std::int64_t> certificate_expiry(const TlsCredentials& tls);

}  // namespace cloudtime::sys
