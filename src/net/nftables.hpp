// SPDX-License-Identifier: Apache-2.0
// nftables, through the library the `nft` tool is built on: a ruleset in nft's own syntax,
// applied as one transaction in the calling thread's network namespace.
#pragma once

#include <string>

#include "util/expected.hpp"

namespace cloudtime::sys {

// Runs `commands` (nft -f syntax) in the current thread's network namespace: all of them or,
// on any error, none. The error is nft's message, trimmed to one line per problem.
Status apply_nft(const std::string& commands);

}  // namespace cloudtime::sys
