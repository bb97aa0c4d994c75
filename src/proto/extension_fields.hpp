// SPDX-License-Identifier: Apache-2.0
// RFC 7822 extension fields after the 48-octet header, with strict length validation, and
// the legacy MAC that may close a packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace cloudtime::proto {

inline constexpr std::size_t kMinExtensionLength = 16;
// Without a MAC, the last field must be at least this long (RFC 7822 section 7.5), which
// is what tells a final field apart from a 20 or 24 octet MAC.
inline constexpr std::size_t kMinLastExtensionLength = 28;
// Legacy MACs in NTPv4 (RFC 7822): a 4-octet key id and a 16 (MD5, AES-CMAC) or 20 (SHA-1)
// octet digest.
inline constexpr std::size_t kShortMacLength = 4 + 16;
inline constexpr std::size_t kLongMacLength = 4 + 20;

struct ExtensionField {
    std::uint16_t type = 0;
    std::span<const std::uint8_t> value;  // the octets after the 4-octet field header
};

enum class ExtensionError : std::uint8_t {
    none,
    truncated,             // fewer octets left than a field header or its declared length
    bad_length,            // declared length < 16 or not a multiple of 4
    last_field_too_short,  // a final field shorter than 28 octets and not a MAC either
};

const char* extension_error_name(ExtensionError error);

// Walks the octets after the header. next() yields each field; at the end, error() tells
// whether the whole trailer was well formed and mac() what closed it, if anything.
class ExtensionCursor {
  public:
    explicit ExtensionCursor(std::span<const std::uint8_t> trailer) : rest_(trailer) {}

    std::optional<ExtensionField> next();
    ExtensionError error() const { return error_; }
    std::span<const std::uint8_t> mac() const { return mac_; }

  private:
    std::span<const std::uint8_t> rest_;
    std::span<const std::uint8_t> mac_;
    ExtensionError error_ = ExtensionError::none;
};

struct TrailerSummary {
    ExtensionError error = ExtensionError::none;
    std::size_t field_count = 0;
    std::size_t mac_length = 0;
};

TrailerSummary scan_trailer(std::span<const std::uint8_t> trailer);

}  // namespace cloudtime::proto
