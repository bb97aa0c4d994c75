// SPDX-License-Identifier: Apache-2.0
// The OpenStack config drive Nova builds for an instance (label config-2), as a set of files:
// what `cloudtime vendordata config-drive` writes and what validate-image boots with.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "cloud/vendordata.hpp"
#include "util/expected.hpp"

namespace cloudtime::cloud {

inline constexpr std::string_view kConfigDriveLabel = "config-2";

// One NIC with a static IPv4 address (or one that asks DHCP), as network_data.json
// describes it.
struct StaticIpv4 {
    std::string mac;      // "52:54:00:12:34:56"
    std::string address;  // "169.254.100.10"
    int prefix_length = 24;
    std::string gateway;  // "" = none
    bool dhcp = false;    // Nova's "ipv4_dhcp": then address, prefix and gateway are unused
};

struct ConfigDriveInstance {
    std::string uuid;
    std::string hostname;
    std::string project_id;
    std::optional<std::string> user_data;              // as the tenant gave it
    std::optional<StaticIpv4> network;                 // none: network_data.json lists no link
    std::optional<std::string> public_key;             // the keypair's OpenSSH public key line
    std::map<std::string, std::string> metadata = {};  // the instance's ("meta")
};

// Path (relative to the drive's root) -> contents: openstack/latest/meta_data.json,
// vendor_data.json (StaticJSON's file), vendor_data2.json (DynamicJSON's answer under the
// target "cloud-init"), network_data.json and, if given, user_data.
std::map<std::string, std::string> config_drive_files(const ConfigDriveInstance& instance,
                                                      const Vendordata& vendordata);

// "169.254.100.10/24" -> address and prefix length; errors say what is wrong.
Expected<std::pair<std::string, int>> parse_ipv4_cidr(std::string_view text);
// "52:54:00:12:34:56" (lower or upper case hex).
Status check_mac(std::string_view text);
// One OpenSSH public key line ("ssh-ed25519 AAAA... comment"), trailing newline removed:
// what Nova puts in meta_data.json's public_keys for the instance's keypair.
Expected<std::string> parse_public_key(std::string_view text);

}  // namespace cloudtime::cloud
