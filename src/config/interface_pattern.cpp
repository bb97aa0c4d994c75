// SPDX-License-Identifier: Apache-2.0
#include "config/interface_pattern.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace cloudtime::config {

namespace {
constexpr std::size_t kInterfaceNameSize = 16;  // the kernel's IFNAMSIZ, with the final NUL
}  // namespace

Status check_interface_pattern(std::string_view pattern) {
    const std::string_view name =
        !pattern.empty() && pattern.back() == '*' ? pattern.substr(0, pattern.size() - 1) : pattern;
    if (name.empty() || name.size() >= kInterfaceNameSize) {
        return Error{
            fmt::format("'{}' is not an interface name or a prefix ending in '*'", pattern)};
    }
    const bool valid = std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == '-';
    });
    if (!valid) {
        return Error{
            fmt::format("'{}': an interface name may hold letters, digits, '_', '.' "
                        "and '-' (and a final '*')",
                        pattern)};
    }
    return Done{};
}

}  // namespace cloudtime::config
