// SPDX-License-Identifier: Apache-2.0
// Interface names as the config names them (router_interfaces = "qr-*").
#pragma once

#include <string_view>

#include "util/expected.hpp"

namespace cloudtime::config {

// Whether `pattern` can stand in an nft iifname match: 1-15 characters of [A-Za-z0-9_.-],
// optionally ending in '*'.
Status check_interface_pattern(std::string_view pattern);

}  // namespace cloudtime::config
