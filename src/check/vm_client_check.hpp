// SPDX-License-Identifier: Apache-2.0
// The checks about the VM's own NTP client: does it follow a cloud source now, is it
// configured with the cloud's servers, and is its time authenticated.
#pragma once

#include "check/check_result.hpp"
#include "check/vm_check.hpp"

namespace cloudtime::check {

CheckResult client_check(const VmFacts& facts);
CheckResult configured_check(const VmFacts& facts);
CheckResult authenticated_check(const VmFacts& facts);

}  // namespace cloudtime::check
