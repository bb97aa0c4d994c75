// SPDX-License-Identifier: Apache-2.0
// What the metrics endpoint shows: the daemon's state as Prometheus metrics, named the way
// ntpd-rs, chrony_exporter and node_exporter name theirs, with a cloudtime_ prefix, base
// units and _total counters. Rendered on the main thread, like the status socket's JSON:
// each role writes its own families (daemon/role.hpp); these are the families of the process,
// the NTP server, the clock and tenant networks (NTS's and vendordata's are beside them).
#pragma once

#include <string_view>

#include "clock/clock_keeper.hpp"
#include "metrics/exposition.hpp"
#include "proto/clock_snapshot.hpp"
#include "serve/ntp_server.hpp"
#include "tenant/tenant_runner.hpp"

namespace cloudtime::daemon {

// The build, the start time, memory and descriptors of the serving process.
void process_metrics(metrics::Exposition& e, proto::UnixTime started);
// Per server.listen address: received, answered, dropped by reason, KoDs.
void ntp_metrics(metrics::Exposition& e, const server::NtpServer& ntp);
// What is served as the time: synchronization, leap, stratum, root delay and dispersion.
void clock_metrics(metrics::Exposition& e, const proto::ClockSnapshot& clock,
                   const server::ClockKeeper& keeper, std::string_view source, proto::UnixTime now);
// Tenant namespaces served, and per namespace (up to metrics.max_tenant_series) what came.
void tenant_metrics(metrics::Exposition& e, const TenantRunner& tenants);

}  // namespace cloudtime::daemon
