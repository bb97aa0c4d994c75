// SPDX-License-Identifier: Apache-2.0
// chronyc's CSV output (`chronyc -c -n tracking|sources|authdata`) as the structures chrony's
// command protocol gives `cloudtime check` inside a VM: how the facts gatherer's record (which
// runs chronyc in the guest) is judged by the same rules. Pure.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/chrony_command.hpp"
#include "util/expected.hpp"

namespace cloudtime::check {

Expected<proto::ChronyTracking> parse_chronyc_tracking(std::string_view csv);

// One source per line, in chronyc's order.
Expected<std::vector<proto::ChronySource>> parse_chronyc_sources(std::string_view csv);

// Each source's authentication, by the address chronyc names it with.
Expected<std::vector<std::pair<std::string, proto::ChronyAuthData>>> parse_chronyc_authdata(
    std::string_view csv);

}  // namespace cloudtime::check
