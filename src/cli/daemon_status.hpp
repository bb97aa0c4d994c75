// SPDX-License-Identifier: Apache-2.0
// What `cloudtime status` and `cloudtime reload` read: the running cloudtimed's status
// document from its status socket.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "util/expected.hpp"

namespace cloudtime::cli {

inline constexpr const char* kDefaultStatusSocket = "/run/cloudtime/status.sock";

// The document, or what went wrong in words that say what to check.
Expected<nlohmann::json> read_daemon_status(const std::string& socket);

}  // namespace cloudtime::cli
