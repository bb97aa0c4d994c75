#include "daemon/status.hpp"

#include <nlohmann/json.hpp>

#include "daemon/reload.hpp"
#include "daemon/tenant_role.hpp"
#include "daemon/vendordata_process.hpp"
#include "proto/refid.hpp"
#include "sys/clock.hpp"
#include "sys/paths.hpp"

namespace cloudtime::daemon {

std::string status_json(const server::NtpServer& ntp, const proto::ClockSnapshot& clock,
                        const std::string& clock_source, const TenantRole* tenants,
                        const VendordataProcess* vendordata, const ReloadRecord& reload) {
    nlohmann::json out;
    out["version"] = CLOUDTIME_VERSION;
    // `cloudtime reload` signals this process and waits for reload.count to move.
    out["pid"] = sys::process_id();
    out["reload"] = {{"count", reload.count},
                     {"applied", reload.applied},
                     {"error", reload.error},
                     {"restart_needed", reload.restart_needed}};
    const proto::UnixTime now = sys::realtime_now();
    out["clock"] = {{"source", clock_source},
                    {"synchronized", clock.synchronized},
                    {"stratum", clock.synchronized ? clock.stratum : 0},
                    {"refid", proto::refid_to_string(clock.refid, clock.stratum)},
                    {"leap", proto::leap_name(clock.leap)},
                    {"root_delay_s", clock.root_delay_s},
                    {"root_dispersion_s", proto::root_dispersion_at(clock, now)},
                    {"smearing", clock.smear.active}};
    nlohmann::json listen = nlohmann::json::array();
    for (const auto& address : ntp.bound_addresses()) {
        listen.push_back(address.to_string());
    }
    out["listen"] = listen;
    out["threads"] = ntp.thread_count();
    out["send_delay_s"] = static_cast<double>(ntp.send_delay_ns()) / 1e9;
    const server::CounterTotals t = ntp.totals();
    // Every received datagram is answered, dropped (for one reason) or a send error. The
    // same named counters as the log's: "dropped.<reason>" goes under dropped_by_reason.
    nlohmann::json counters = nlohmann::json::object();
    nlohmann::json dropped = nlohmann::json::object();
    for (const auto& [name, value] : t.named()) {
        if (name.starts_with(server::kDroppedPrefix)) {
            dropped[name.substr(server::kDroppedPrefix.size())] = value;
        } else {
            counters[name] = value;
        }
    }
    counters["dropped_by_reason"] = dropped;
    out["counters"] = counters;
    nlohmann::json networks = nlohmann::json::array();
    if (tenants != nullptr) {
        for (const auto& s : tenants->status()) {
            networks.push_back({{"namespace", s.name},
                                {"addresses", s.addresses},
                                {"received", s.received},
                                {"answered", s.answered}});
        }
    }
    out["tenant_networks"] = networks;
    if (vendordata != nullptr) {
        out["vendordata"] = vendordata->status();
    }
    return out.dump(2) + "\n";
}

}  // namespace cloudtime::daemon
