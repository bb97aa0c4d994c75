// What a reload (SIGHUP, `systemctl reload`) changes while serving, and what only a restart
// changes: what was set up as root or before the threads started.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"

namespace cloudtime::daemon {

// The keys (as the file names them) whose value in `next` differs from the running one's
// `started` and that a reload does not apply: the user, the runtime directory, threads,
// batch size, receive buffer, seccomp, the clock source's keys, the tenant networks, the
// vendordata endpoint's address, TLS files and whether it runs, the status socket.
std::vector<std::string> keys_needing_restart(const config::Config& started,
                                              const config::Config& next);

}  // namespace cloudtime::daemon
