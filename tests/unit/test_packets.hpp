// SPDX-License-Identifier: Apache-2.0
// Request builders shared by the unit tests.
#pragma once

#include <cstdint>
#include <vector>

#include "proto/packet.hpp"

namespace cloudtime::test {

inline std::vector<std::uint8_t> client_request(std::uint8_t version = 4, std::uint8_t mode = 3,
                                                std::uint64_t transmit = 0x0123'4567'89AB'CDEFULL,
                                                std::int8_t poll = 6) {
    std::vector<std::uint8_t> out(proto::kHeaderSize, 0);
    out[0] = static_cast<std::uint8_t>((version << 3U) | mode);
    out[2] = static_cast<std::uint8_t>(poll);
    proto::store_u64(std::span(out).subspan(proto::kTransmitOffset, 8), transmit);
    return out;
}

// Appends an extension field of `length` octets (header included) with the given type.
inline void append_field(std::vector<std::uint8_t>& packet, std::uint16_t type,
                         std::uint16_t length) {
    const std::size_t at = packet.size();
    packet.resize(at + length, 0xAB);
    proto::store_u16(std::span(packet).subspan(at, 2), type);
    proto::store_u16(std::span(packet).subspan(at + 2, 2), length);
}

}  // namespace cloudtime::test
