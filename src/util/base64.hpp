// SPDX-License-Identifier: Apache-2.0
// RFC 4648 base64 (the standard alphabet, padded), decoded without a library: the in-VM check
// links statically and has no OpenSSL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cloudtime {

namespace base64_detail {
inline int sextet(char c) {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}
}  // namespace base64_detail

inline std::optional<std::string> decode_base64(std::string_view in) {
    if (in.size() % 4 != 0) {
        return std::nullopt;
    }
    std::string out;
    out.reserve(in.size() / 4 * 3);
    for (std::size_t i = 0; i < in.size(); i += 4) {
        const bool last = i + 4 == in.size();
        const int pad = (last && in[i + 3] == '=') ? (in[i + 2] == '=' ? 2 : 1) : 0;
        std::uint32_t group = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            const int v =
                (k >= 4 - static_cast<std::size_t>(pad)) ? 0 : base64_detail::sextet(in[i + k]);
            if (v < 0) {
                return std::nullopt;
            }
            group = (group << 6U) | static_cast<std::uint32_t>(v);
        }
        out.push_back(static_cast<char>((group >> 16U) & 0xFFU));
        if (pad < 2) {
            out.push_back(static_cast<char>((group >> 8U) & 0xFFU));
        }
        if (pad < 1) {
            out.push_back(static_cast<char>(group & 0xFFU));
        }
    }
    return out;
}

}  // namespace cloudtime
