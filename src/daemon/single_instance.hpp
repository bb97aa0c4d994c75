// SPDX-License-Identifier: Apache-2.0
// One cloudtimed per address: a second one with the same NTP address, vendordata address or
// status socket refuses to start, naming the process that holds it (SO_REUSEPORT would let
// it join the first one's sockets, and clients would get answers from both in turn).
#pragma once

#include "config/config.hpp"
#include "util/expected.hpp"

namespace cloudtime::daemon {

Status check_single_instance(const config::Config& config);

}  // namespace cloudtime::daemon
