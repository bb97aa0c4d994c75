// SPDX-License-Identifier: Apache-2.0
// Who already holds an address: so that a second cloudtimed refuses to start instead of
// joining the first one's SO_REUSEPORT group (and answering half the queries as itself).
#pragma once

#include <string>
#include <vector>

#include "net/socket_address.hpp"

namespace cloudtime::sys {

enum class Transport { udp, tcp };

// Whether a socket of this network namespace holds `address` (or its port on the wildcard
// address): a bind without SO_REUSEPORT says so, as it would for us.
bool address_taken(Transport transport, const SocketAddress& address);

// The processes holding a socket bound to `address` (either may be the wildcard; for TCP,
// listening), as "pid N (name)": /proc/net/{udp,tcp}[6] and every process's descriptors.
// Empty when none is visible (another user's processes under ProtectProc=).
std::vector<std::string> processes_holding(Transport transport, const SocketAddress& address);

// The process at the other end of a connected Unix socket, as "pid N (name)".
std::string peer_process(int unix_fd);

}  // namespace cloudtime::sys
