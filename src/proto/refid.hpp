// SPDX-License-Identifier: Apache-2.0
// Reference identifiers: four ASCII octets at stratum 0 (kiss codes) and 1 (sources), an IPv4
// address above (RFC 5905 section 7.3).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace cloudtime::proto {

// Text as the refid is meant to be read at this stratum: "RATE", "GPS", "192.0.2.1".
std::string refid_to_string(std::uint32_t refid, std::uint8_t stratum);

// Parses "a.b.c.d" or one to four ASCII letters/digits ("LOCL", "GPS"); nullopt otherwise.
std::optional<std::uint32_t> parse_refid(std::string_view text);

// The refid of an IPv6 reference: the first four octets of the MD5 digest of its address
// (RFC 5905 section 7.3).
std::uint32_t refid_from_ipv6(std::span<const std::uint8_t, 16> address);

// A kiss code is four printable ASCII octets (RFC 5905 section 7.4).
bool is_kiss_code(std::uint32_t refid);

}  // namespace cloudtime::proto
