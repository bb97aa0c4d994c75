// SPDX-License-Identifier: Apache-2.0
// One part of the running daemon (the clock, the NTP server, NTS, tenant networks, vendordata,
// the status socket, the metrics endpoint, the descriptor budget) as its main loop sees it:
// the loop starts them, waits on their descriptors, ticks them every second, reloads them,
// and asks each for its share of the status document and of the metrics. A role is made,
// with whatever it needs as root, before the privileges are dropped; what it needs made as
// root is its own constructor's business, not this interface's.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "daemon/config_loader.hpp"
#include "metrics/exposition.hpp"
#include "proto/timestamp.hpp"
#include "util/expected.hpp"

namespace cloudtime::daemon {

using config::Config;  // the daemon runs what the config schema describes

// What a reload did to one role.
struct RoleReload {
    std::string applied;                      // for the log line ("" when it says nothing)
    std::vector<std::string> restart_needed;  // keys that only a restart applies
};

class Role {
  public:
    Role() = default;
    virtual ~Role() = default;
    Role(const Role&) = delete;
    Role& operator=(const Role&) = delete;

    // After the privileges are dropped, in the roles' order.
    virtual Status start() { return Done{}; }
    // A descriptor the loop waits on (-1: none), and what to do when it is readable; an exit
    // status stops the daemon with it.
    virtual int fd() const { return -1; }
    virtual std::optional<int> on_readable() { return std::nullopt; }
    // Every second.
    virtual void tick() {}

    // A reload is all or nothing, in two steps. check_reload reads and checks every file
    // `next` names and changes nothing; apply_reload, in the roles' order, applies. Only a
    // role whose apply can fail (the NTP server, binding new addresses) returns an error,
    // and it comes first: a failure there leaves every role as it was.
    virtual Status check_reload(const Config& /*next*/) { return Done{}; }
    virtual Expected<RoleReload> apply_reload(const LoadedConfig& /*next*/,
                                              const Config& /*running*/) {
        return RoleReload{};
    }
    // Every SIGHUP, applied or not: look again at what is followed.
    virtual void on_hangup() {}
    // SIGUSR1: a line or two of state in the log.
    virtual void log_state() const {}

    // Before the daemon exits, in the reverse of the roles' order.
    virtual void stop() {}

    // Its members of `cloudtime status`'s document and its metric families, as of `now`.
    virtual void add_status(nlohmann::json& /*doc*/, proto::UnixTime /*now*/) const {}
    virtual void add_metrics(metrics::Exposition& /*e*/, proto::UnixTime /*now*/) const {}
};

// The roles in their order (non-owning: the daemon's run owns them).
using RoleList = std::vector<Role*>;

}  // namespace cloudtime::daemon
