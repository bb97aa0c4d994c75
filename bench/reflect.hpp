// SPDX-License-Identifier: Apache-2.0
// What every benchmark reflector does to a request: the least an NTP-shaped reply needs for
// the load generator to accept it (mode 4, a stratum, the request's transmit timestamp echoed
// as origin). No clock reads, no checks.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "proto/packet.hpp"

namespace cloudtime::bench {

// Writes the reply into `reply` (at least kHeaderSize octets); returns its length, or 0 when
// the request is too short to answer.
inline std::size_t reflect(std::span<const std::uint8_t> request, std::span<std::uint8_t> reply) {
    if (request.size() < proto::kHeaderSize || reply.size() < proto::kHeaderSize) {
        return 0;
    }
    std::copy_n(request.begin(), proto::kHeaderSize, reply.begin());
    reply[0] = static_cast<std::uint8_t>((request[0] & 0x38U) | 0x04U);  // VN kept, mode 4
    reply[1] = 1;                                                        // stratum 1
    std::copy_n(request.begin() + proto::kTransmitOffset, 8, reply.begin() + proto::kOriginOffset);
    return proto::kHeaderSize;
}

}  // namespace cloudtime::bench
