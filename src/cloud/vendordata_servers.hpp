// SPDX-License-Identifier: Apache-2.0
// Reading back which NTP servers a vendordata tells cloud-init to use: what `cloudtime check`
// finds in vendor_data.json / vendor_data2.json, from cloudtime or from another provider.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cloudtime::cloud {

// Accepts a whole document ({"cloud-init": ...}) or the value under "cloud-init" (a string or
// a list of parts, each a string or {"content": ...}). Finds cloudtime's shell part
// (CLOUDTIME_SERVERS="...") and cloud-config `ntp:` blocks (`servers:` as a block or a flow
// list). In order of appearance, without repeats.
std::vector<std::string> ntp_servers_in_vendordata(const nlohmann::json& vendordata);

// Whether cloudtime's shell part asks for the KVM PTP clock (CLOUDTIME_PTP_KVM=yes).
bool ptp_kvm_in_vendordata(const nlohmann::json& vendordata);
// Whether it asks chrony for NTS (cloudtime's shell part with CLOUDTIME_NTS=yes).
bool nts_in_vendordata(const nlohmann::json& vendordata);

}  // namespace cloudtime::cloud
