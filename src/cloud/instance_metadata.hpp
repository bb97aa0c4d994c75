// SPDX-License-Identifier: Apache-2.0
// The instance metadata keys a tenant may set to steer what cloudtime delivers (when the
// operator honours them): read by the vendordata policy on the host and by `cloudtime check`
// inside the VM (meta_data.json's "meta"), so both read them alike.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace cloudtime::cloud {

// cloudtime_ntp=off: no time vendordata; cloudtime_ptp=on|off.
inline constexpr std::string_view kOptOutKey = "cloudtime_ntp";
inline constexpr std::string_view kPtpKey = "cloudtime_ptp";

// "on"/"true"/"yes" -> true, "off"/"false"/"no" -> false; unset or anything else: nullopt.
std::optional<bool> on_off(const std::map<std::string, std::string>& metadata,
                           std::string_view key);

// The tenant turned cloudtime's time configuration off (cloudtime_ntp=off).
bool opts_out(const std::map<std::string, std::string>& metadata);

}  // namespace cloudtime::cloud
