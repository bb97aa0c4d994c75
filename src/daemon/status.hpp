// SPDX-License-Identifier: Apache-2.0
// What `cloudtime status` shows: the daemon's state as one JSON document, written to whoever
// connects to the status socket. Each role writes its own members (daemon/role.hpp); these
// are the writers of the members the daemon, the clock, the NTP server, tenant networks and
// NTS own.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "nts/nts_runner.hpp"
#include "proto/clock_snapshot.hpp"
#include "serve/ntp_server.hpp"
#include "tenant/tenant_runner.hpp"

namespace cloudtime::daemon {

// The status document's "schema": 1 is the first versioned one (no key holds a dot).
inline constexpr int kStatusSchema = 1;

struct ReloadRecord;

// version, pid, and what the reloads did.
void add_daemon_status(nlohmann::json& doc, const ReloadRecord& reload, proto::UnixTime started,
                       proto::UnixTime now);
// "clock": what is served as the time, as of `now`.
void add_clock_status(nlohmann::json& doc, const proto::ClockSnapshot& clock,
                      std::string_view source, proto::UnixTime now);
// listen, threads, delays, counters, and an empty "tenant_networks".
void add_ntp_status(nlohmann::json& doc, const server::NtpServer& ntp);
// "tenant_networks": each namespace served.
void add_tenant_status(nlohmann::json& doc, const TenantRunner& tenants);
// "nts": key establishment's counters and the cookie keys in force (ids only: never a key).
void add_nts_status(nlohmann::json& doc, const NtsRunner& nts, proto::UnixTime now);

}  // namespace cloudtime::daemon
