// SPDX-License-Identifier: Apache-2.0
// One request and its answer over TLS 1.3 (the client's side of NTS-KE): the server's
// certificate verified against a CA file (or the system's store) for the name or address
// asked, the ALPN protocol required, the whole exchange under one deadline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "net/socket_address.hpp"
#include "tls/tls_key_exporter.hpp"
#include "util/expected.hpp"

namespace cloudtime::sys {

struct TlsClientOptions {
    std::string server_name;  // what the certificate must name: a DNS name or an IP address
    std::string alpn;
    std::string ca_file;  // empty: the system's trust store
    double timeout_s = 5.0;
    std::size_t max_answer = 65536;
};

// Connects to `server`, sends `request`, and reads until `complete(received)` says the answer
// is whole. `on_session` sees the session's key exporter once the handshake is done. Errors
// say what failed in words ("certificate verify failed", "no complete answer within 5 s").
Expected<std::vector<std::uint8_t>> tls_client_exchange(
    const SocketAddress& server, const TlsClientOptions& options,
    std::span<const std::uint8_t> request,
    const std::function<bool(std::span<const std::uint8_t>)>& complete,
    const std::function<void(const TlsKeyExporter&)>& on_session);

}  // namespace cloudtime::sys
