// SPDX-License-Identifier: Apache-2.0
// Listening TCP sockets, for the servers that take connections (HTTP, NTS-KE).
#pragma once

#include "net/socket_address.hpp"
#include "sys/fd.hpp"
#include "util/expected.hpp"

namespace cloudtime::sys {

// A TCP socket bound to `address` and listening (SO_REUSEADDR, IPV6_V6ONLY for IPv6),
// non-blocking.
Expected<UniqueFd> listen_tcp(const SocketAddress& address, int backlog);

}  // namespace cloudtime::sys
