// SPDX-License-Identifier: Apache-2.0
#include "cloud/instance_metadata.hpp"

namespace cloudtime::cloud {

std::optional<bool> on_off(const std::map<std::string, std::string>& metadata,
                           std::string_view key) {
    const auto it = metadata.find(std::string(key));
    if (it == metadata.end()) {
        return std::nullopt;
    }
    if (it->second == "on" || it->second == "true" || it->second == "yes") {
        return true;
    }
    if (it->second == "off" || it->second == "false" || it->second == "no") {
        return false;
    }
    return std::nullopt;  // anything else: as if unset
}

bool opts_out(const std::map<std::string, std::string>& metadata) {
    return on_off(metadata, kOptOutKey) == false;
}

}  // namespace cloudtime::cloud
