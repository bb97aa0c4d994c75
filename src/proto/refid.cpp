// SPDX-License-Identifier: Apache-2.0
#include "proto/refid.hpp"

#include <openssl/evp.h>

#include <array>
#include <charconv>

namespace cloudtime::proto {

namespace {
std::array<char, 4> octets(std::uint32_t refid) {
    return {static_cast<char>(refid >> 24U), static_cast<char>(refid >> 16U),
            static_cast<char>(refid >> 8U), static_cast<char>(refid)};
}

bool is_code_char(char c) {
    return c >= 0x20 && c < 0x7F;
}
}  // namespace

std::uint32_t refid_from_ipv6(std::span<const std::uint8_t, 16> address) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (EVP_Digest(address.data(), address.size(), digest.data(), &length, EVP_md5(), nullptr) !=
            1 ||
        length < 4) {
        return 0;  // OpenSSL without MD5: an unknown reference
    }
    return (std::uint32_t{digest[0]} << 24U) | (std::uint32_t{digest[1]} << 16U) |
           (std::uint32_t{digest[2]} << 8U) | std::uint32_t{digest[3]};
}

bool is_kiss_code(std::uint32_t refid) {
    for (const char c : octets(refid)) {
        if (!is_code_char(c)) {
            return false;
        }
    }
    return true;
}

std::string refid_to_string(std::uint32_t refid, std::uint8_t stratum) {
    if (stratum <= 1) {
        std::string text;
        for (const char c : octets(refid)) {
            if (c == '\0') {
                break;
            }
            text += is_code_char(c) ? c : '?';
        }
        return text;
    }
    std::string text;
    for (int shift = 24; shift >= 0; shift -= 8) {
        text += std::to_string((refid >> static_cast<unsigned>(shift)) & 0xFFU);
        if (shift != 0) {
            text += '.';
        }
    }
    return text;
}

std::optional<std::uint32_t> parse_refid(std::string_view text) {
    if (text.find('.') != std::string_view::npos) {
        std::uint32_t value = 0;
        int parts = 0;
        std::string_view rest = text;
        while (parts < 4) {
            unsigned part = 0;
            const auto* end = rest.data() + rest.size();
            const auto [ptr, ec] = std::from_chars(rest.data(), end, part);
            if (ec != std::errc{} || part > 255 || ptr == rest.data()) {
                return std::nullopt;
            }
            value = (value << 8U) | part;
            ++parts;
            rest = rest.substr(static_cast<std::size_t>(ptr - rest.data()));
            if (parts < 4) {
                if (rest.empty() || rest.front() != '.') {
                    return std::nullopt;
                }
                rest.remove_prefix(1);
            }
        }
        return rest.empty() ? std::optional<std::uint32_t>(value) : std::nullopt;
    }
    if (text.empty() || text.size() > 4) {
        return std::nullopt;
    }
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        const char c = i < text.size() ? text[i] : '\0';
        if (i < text.size() && !(is_code_char(c) && c != ' ')) {
            return std::nullopt;
        }
        value = (value << 8U) | static_cast<std::uint8_t>(c);
    }
    return value;
}

}  // namespace cloudtime::proto
