// SPDX-License-Identifier: Apache-2.0
#include "proto/extension_fields.hpp"

#include "proto/packet.hpp"

namespace cloudtime::proto {

const char* extension_error_name(ExtensionError error) {
    switch (error) {
        case ExtensionError::none:
            return "none";
        case ExtensionError::truncated:
            return "truncated";
        case ExtensionError::bad_length:
            return "bad_length";
        case ExtensionError::last_field_too_short:
            return "last_field_too_short";
    }
    return "unknown";
}

namespace {
bool looks_like_mac(std::size_t length) {
    return length == kShortMacLength || length == kLongMacLength;
}
}  // namespace

std::optional<ExtensionField> ExtensionCursor::next() {
    if (rest_.empty() || error_ != ExtensionError::none) {
        return std::nullopt;
    }
    const std::size_t remaining = rest_.size();
    if (remaining >= 4) {
        const std::size_t length = load_u16(rest_.subspan(2, 2));
        const bool well_formed = length >= kMinExtensionLength && length % 4 == 0;
        const bool fits = length <= remaining;
        const bool final_ok = length < remaining || length >= kMinLastExtensionLength;
        if (well_formed && fits && final_ok) {
            ExtensionField field{load_u16(rest_.first(2)), rest_.subspan(4, length - 4)};
            rest_ = rest_.subspan(length);
            return field;
        }
        // Not a field: what is left may still be a legacy MAC closing the packet.
        if (looks_like_mac(remaining)) {
            mac_ = rest_;
            rest_ = {};
            return std::nullopt;
        }
        if (!well_formed) {
            error_ = ExtensionError::bad_length;
        } else if (!fits) {
            error_ = ExtensionError::truncated;
        } else {
            error_ = ExtensionError::last_field_too_short;
        }
        return std::nullopt;
    }
    error_ = ExtensionError::truncated;
    return std::nullopt;
}

TrailerSummary scan_trailer(std::span<const std::uint8_t> trailer) {
    ExtensionCursor cursor(trailer);
    TrailerSummary summary;
    while (cursor.next()) {
        ++summary.field_count;
    }
    summary.error = cursor.error();
    summary.mac_length = cursor.mac().size();
    return summary;
}

}  // namespace cloudtime::proto
