// SPDX-License-Identifier: Apache-2.0
// Name resolution for the client (getaddrinfo).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "net/socket_address.hpp"
#include "util/expected.hpp"

namespace cloudtime::sys {

Expected<std::vector<SocketAddress>> resolve_udp(const std::string& host, std::uint16_t port);

}  // namespace cloudtime::sys
