// SPDX-License-Identifier: Apache-2.0
// Whether a client of an HTTP endpoint (vendordata, metrics) is in its allowed_clients.
#pragma once

#include <algorithm>
#include <vector>

#include "net/socket_address.hpp"
#include "proto/access_list.hpp"

namespace cloudtime::daemon {

// An empty list allows every client that can connect.
inline bool in_allowed_clients(const std::vector<sys::Cidr>& allowed,
                               const sys::SocketAddress& client) {
    const auto octets = client.mapped_octets();
    return allowed.empty() || std::any_of(allowed.begin(), allowed.end(), [&](const sys::Cidr& c) {
               return proto::prefix_contains(c.octets, c.length, octets);
           });
}

}  // namespace cloudtime::daemon
