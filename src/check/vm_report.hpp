// SPDX-License-Identifier: Apache-2.0
// The facts `cloudtime check` judged, as its report carries them (JSON keys "channels",
// "servers", "ptp_clocks", "client"; schema in cloudtime(1)) and as the human table shows them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "check/vm_check.hpp"

namespace cloudtime::check {

nlohmann::json vm_facts_json(const VmFacts& facts);

// One line per server measured, with a header line.
std::vector<std::string> vm_facts_table(const VmFacts& facts);

}  // namespace cloudtime::check
