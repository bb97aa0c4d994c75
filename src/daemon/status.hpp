// What `cloudtime status` shows: the daemon's state as one JSON document, written to whoever
// connects to the status socket.
#pragma once

#include <string>

#include "proto/clock_snapshot.hpp"
#include "serve/ntp_server.hpp"

namespace cloudtime::daemon {

class NtsRole;
class TenantRole;
class VendordataProcess;
struct ReloadRecord;

// `tenants`, `vendordata` and `nts` are null when their role is off.
std::string status_json(const server::NtpServer& ntp, const proto::ClockSnapshot& clock,
                        const std::string& clock_source, const TenantRole* tenants,
                        const VendordataProcess* vendordata, const NtsRole* nts,
                        const ReloadRecord& reload);

}  // namespace cloudtime::daemon
