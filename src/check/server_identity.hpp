// SPDX-License-Identifier: Apache-2.0
// Whether two NTP answers came from the same server. One cloudtimed answers on every address
// it serves (169.254.169.254, fe80::a9fe:a9fe, a managed 169.254.169.123): counting addresses
// would count it several times and overstate redundancy. Two answers are the same server when
// they carry the same stratum, refid, reference time and root delay, and root dispersions
// that differ by no more than a server's dispersion grows between the two answers; or the same
// stratum and refid, and the later answer's reference time falls between the two answers (its
// upstream updated it in between).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "proto/packet.hpp"

namespace cloudtime::check {

bool same_server(const proto::Header& a, const proto::Header& b);

// Groups answerers into servers: `answers[i]` holds the headers that answerer i received (one
// per sample). Answerers with a header in common (same_server) are one server. Returns, for
// each answerer, the index of its group; answerers with no header get a group of their own.
std::vector<std::size_t> group_servers(std::span<const std::vector<proto::Header>> answers);

}  // namespace cloudtime::check
