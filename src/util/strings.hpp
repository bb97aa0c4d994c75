// Small text helpers shared by log messages and reports.
#pragma once

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

}  // namespace cloudtime
