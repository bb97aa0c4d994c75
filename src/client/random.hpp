// SPDX-License-Identifier: Apache-2.0
// Random octets for what a client must not let an attacker guess (request nonces, NTS unique
// identifiers): std::random_device is the kernel's CSPRNG on Linux.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>

namespace cloudtime::client {

inline void fill_random(std::span<std::uint8_t> out) {
    std::random_device device;
    for (auto& octet : out) {
        octet = static_cast<std::uint8_t>(device());
    }
}

inline std::uint64_t random_u64() {
    std::array<std::uint8_t, sizeof(std::uint64_t)> octets{};
    fill_random(octets);
    std::uint64_t value = 0;
    std::memcpy(&value, octets.data(), octets.size());
    return value;
}

}  // namespace cloudtime::client
