// SPDX-License-Identifier: Apache-2.0
// What a reload (SIGHUP, `systemctl reload`) changes while serving, and what only a restart
// changes: what was set up as root or before the threads started.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "clock/clock_keeper.hpp"
#include "config/config.hpp"
#include "daemon/config_loader.hpp"
#include "daemon/role.hpp"
#include "serve/ntp_server.hpp"

namespace cloudtime::daemon {

using config::Config;

// What the config asks of the NTP server and of the clock keeper, at start and on a reload.
server::ServerOptions server_options(const Config& config);
server::ClockKeeperOptions keeper_options(const Config& config);

// What the reloads did, as `cloudtime status` and `cloudtime reload` show it.
struct ReloadRecord {
    std::uint64_t count = 0;  // reloads since the start, applied or not
    bool applied = true;      // the last one's config is running
    std::string error;        // why it is not
    // Keys whose value in the running config differs from the one started with and that
    // only a restart applies (kept from the last applied reload).
    std::vector<std::string> restart_needed;
};

// SIGHUP: the config read again and applied where a reload can, all or nothing: a config that
// does not load, a file it names that a role cannot use (an NTS certificate and key that are
// not a usable pair, read as the daemon's user), or an address that cannot be bound leaves
// the running one as it is. A new port below 1024 that the unprivileged process may not bind
// is left to a restart ("server.listen" in restart_needed) and the rest applied.
// `started`: the config as started (restart keys are compared with it); `running`: the last
// one applied, replaced by the new one; `roles` in their order (role.hpp). `record` says what
// happened.
void reload(const ConfigLoader& loader, const Config& started, LoadedConfig& running,
            const RoleList& roles, ReloadRecord& record);

}  // namespace cloudtime::daemon
