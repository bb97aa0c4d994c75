// SPDX-License-Identifier: Apache-2.0
// The RFC 5905 packet header: decoding and encoding of the fixed 48 octets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "proto/timestamp.hpp"

namespace cloudtime::proto {

inline constexpr std::size_t kHeaderSize = 48;
// The largest request the server reads (with its extension fields: NTS); a larger datagram is
// dropped unread as oversized.
inline constexpr std::size_t kMaxRequestLength = 2048;

enum class Mode : std::uint8_t {
    reserved = 0,
    symmetric_active = 1,
    symmetric_passive = 2,
    client = 3,
    server = 4,
    broadcast = 5,
    control = 6,
    private_use = 7,
};

enum class Leap : std::uint8_t {
    none = 0,
    insert_second = 1,
    delete_second = 2,
    unsynchronized = 3,
};

const char* leap_name(Leap leap);

struct Header {
    Leap leap = Leap::none;
    std::uint8_t version = 4;
    Mode mode = Mode::client;
    std::uint8_t stratum = 0;
    std::int8_t poll = 0;
    std::int8_t precision = 0;
    NtpShort root_delay;
    NtpShort root_dispersion;
    std::uint32_t refid = 0;
    NtpTimestamp reference;
    NtpTimestamp origin;
    NtpTimestamp receive;
    NtpTimestamp transmit;

    friend bool operator==(const Header&, const Header&) = default;
};

// Kiss codes a server sends (RFC 5905 section 7.4), as refids.
inline constexpr std::uint32_t kKissRate = 0x5241'5445U;    // "RATE": slow down
inline constexpr std::uint32_t kKissDeny = 0x4445'4E59U;    // "DENY": stop, access denied
inline constexpr std::uint32_t kKissNtsNak = 0x4E54'534EU;  // "NTSN": NTS cookie not accepted

// Byte offsets of the fields that the server writes one at a time.
inline constexpr std::size_t kOriginOffset = 24;
inline constexpr std::size_t kReceiveOffset = 32;
inline constexpr std::size_t kTransmitOffset = 40;

// Mode and version live in the first octet, readable from any non-empty datagram.
constexpr Mode mode_of(std::uint8_t first_octet) {
    return static_cast<Mode>(first_octet & 0x7U);
}
constexpr std::uint8_t version_of(std::uint8_t first_octet) {
    return static_cast<std::uint8_t>((first_octet >> 3U) & 0x7U);
}

// nullopt when the datagram is shorter than a header.
std::optional<Header> decode_header(std::span<const std::uint8_t> datagram);
void encode_header(const Header& header, std::span<std::uint8_t, kHeaderSize> out);

// Big-endian helpers shared by the codecs.
std::uint16_t load_u16(std::span<const std::uint8_t> bytes);
std::uint32_t load_u32(std::span<const std::uint8_t> bytes);
std::uint64_t load_u64(std::span<const std::uint8_t> bytes);
void store_u16(std::span<std::uint8_t> bytes, std::uint16_t value);
void store_u32(std::span<std::uint8_t> bytes, std::uint32_t value);
void store_u64(std::span<std::uint8_t> bytes, std::uint64_t value);

}  // namespace cloudtime::proto
