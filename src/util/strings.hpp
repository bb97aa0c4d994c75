// SPDX-License-Identifier: Apache-2.0
// Small text helpers shared by log messages and reports.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cloudtime {

inline std::string join(const std::vector<std::string>& items, std::string_view separator = ", ") {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) {
            out += separator;
        }
        out += item;
    }
    return out;
}

// "fe80::1%eth0" -> "fe80::1": an address as a peer names it, without the local scope.
inline std::string without_scope(const std::string& host) {
    return host.substr(0, host.find('%'));
}

// Octets as lower-case hexadecimal digits, two per octet.
inline std::string to_hex(std::span<const std::uint8_t> octets) {
    static constexpr std::string_view kDigits = "0123456789abcdef";
    std::string out;
    out.reserve(octets.size() * 2);
    for (const std::uint8_t o : octets) {
        out += kDigits[o >> 4U];
        out += kDigits[o & 0xFU];
    }
    return out;
}

}  // namespace cloudtime
