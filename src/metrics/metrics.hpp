// What the metrics endpoint shows: the daemon's state as Prometheus metrics, named the way
// ntpd-rs, chrony_exporter and node_exporter name theirs, with a cloudtime_ prefix, base
// units and _total counters. Rendered on the main thread, like the status socket's JSON.
#pragma once

#include <string>
#include <string_view>

#include "clock/clock_keeper.hpp"
#include "proto/clock_snapshot.hpp"
#include "serve/ntp_server.hpp"
#include "util/expected.hpp"

namespace cloudtime::daemon {

class NtsRole;
class TenantRole;
class VendordataProcess;

struct MetricsSources {
    const server::NtpServer& ntp;
    const proto::ClockSnapshot& clock;
    const server::ClockKeeper& keeper;
    std::string_view clock_source;
    const TenantRole* tenants;            // null when the role is off
    const VendordataProcess* vendordata;  // null when the role is off
    const NtsRole* nts;                   // null when NTS is off
    proto::UnixTime started;
};

// The exposition text (an error only if a name in this file is one Prometheus refuses).
Expected<std::string> metrics_text(const MetricsSources& sources, proto::UnixTime now);

}  // namespace cloudtime::daemon
