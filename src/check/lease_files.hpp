// SPDX-License-Identifier: Apache-2.0
// DHCP option 42 as the clients in images record it: ISC dhclient's lease files
// (`option ntp-servers A,B;`, the last lease counts), systemd-networkd's and NetworkManager's
// internal client's lease files (`NTP=A B`), and NetworkManager's device state
// (`option_42_ntp_servers=A B` / `ntp_servers=...`).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cloudtime::check {

// The NTP servers a lease file holds, in order; none when it holds none.
std::vector<std::string> ntp_servers_in_lease(std::string_view text);

}  // namespace cloudtime::check
