// SPDX-License-Identifier: Apache-2.0
// What the texts of the channels that tell a VM its NTP servers say: a vendordata file, the
// instance's meta_data.json, systemd-timesyncd's configuration. Pure: read inside the VM by
// `cloudtime check`, or on a host from a record the guest's gatherer printed on its console.
#pragma once

#include <string>
#include <vector>

#include "check/vm_check.hpp"
#include "util/expected.hpp"

namespace cloudtime::check {

// The servers a vendordata file (vendor_data.json, vendor_data2.json) names; notes in `facts`
// where one asks for the KVM PTP clock or for NTS, with `source` as the place.
Expected<std::vector<std::string>> servers_in_vendordata_text(const std::string& text,
                                                              const std::string& source,
                                                              VmFacts& facts);

// meta_data.json's "meta" (the instance's metadata, strings) says cloudtime_ntp=off.
bool meta_data_opts_out(const std::string& text);

// The servers of systemd-timesyncd's NTP= lines, its configuration files in the order it reads
// them (a later NTP= replaces an earlier one).
std::vector<std::string> timesyncd_servers_in(const std::vector<std::string>& texts);

// Notes `server` as found by `found_by` (a channel's kind, or "link-local"): one entry per
// server, not measured yet.
void add_server(VmFacts& facts, const std::string& server, const std::string& found_by);

// Every server the channels named, each found by its channel's kind.
void add_channel_servers(VmFacts& facts);

}  // namespace cloudtime::check
