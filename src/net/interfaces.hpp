// SPDX-License-Identifier: Apache-2.0
// The network interfaces of the current namespace.
#pragma once

#include <string>
#include <vector>

namespace cloudtime::sys {

// The names of the interfaces that are up, loopback excluded.
std::vector<std::string> interface_names();

}  // namespace cloudtime::sys
