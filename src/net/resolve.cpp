// SPDX-License-Identifier: Apache-2.0
#include "net/resolve.hpp"

#include <netdb.h>

#include <memory>

namespace cloudtime::sys {

Expected<std::vector<SocketAddress>> resolve_udp(const std::string& host, std::uint16_t port) {
    // Numeric addresses first, so that "fe80::1%eth0" keeps its scope and no resolver is asked.
    if (auto numeric = parse_socket_address(host, port)) {
        return std::vector<SocketAddress>{*numeric};
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* raw = nullptr;
    const std::string service = std::to_string(port);
    const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &raw);
    if (rc != 0) {
        return Error{"cannot resolve '" + host + "': " + ::gai_strerror(rc)};
    }
    const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(raw, &::freeaddrinfo);
    std::vector<SocketAddress> out;
    for (const addrinfo* ai = raw; ai != nullptr; ai = ai->ai_next) {
        if (auto a = SocketAddress::from_sockaddr(ai->ai_addr, ai->ai_addrlen)) {
            out.push_back(*a);
        }
    }
    if (out.empty()) {
        return Error{"'" + host + "' has no IPv4 or IPv6 address"};
    }
    return out;
}

}  // namespace cloudtime::sys
