#include "daemon/status.hpp"

#include <nlohmann/json.hpp>

#include "daemon/reload.hpp"
#include "nts/nts_role.hpp"
#include "proto/refid.hpp"
#include "sys/clock.hpp"
#include "sys/paths.hpp"
#include "tenant/tenant_role.hpp"
#include "vendordata/vendordata_process.hpp"

namespace cloudtime::daemon {

namespace {

// Key establishment's counters and the cookie keys in force (ids only: never a key).
nlohmann::json nts_status(const NtsRole& nts, std::int64_t now_s) {
    const server::NtsKeCounters c = nts.counters();
    nlohmann::json refused = nlohmann::json::object();
    for (std::size_t i = 1; i < c.refused.size(); ++i) {
        refused[proto::ke_request_problem_name(static_cast<proto::KeRequestProblem>(i))] =
            c.refused.at(i);
    }
    const proto::NtsKeySet keys = nts.keys();
    nlohmann::json ids = nlohmann::json::array();
    for (const auto& key : keys.keys) {
        ids.push_back(key.id);
    }
    const server::NtsKeyStoreState store = nts.key_store();
    return {{"ke",
             {{"established", c.established},
              {"no_agreement", c.no_agreement},
              {"refused", refused},
              {"internal_errors", c.internal_errors},
              {"connections", c.tls.connections},
              {"open", c.tls.open},
              {"over_limit", c.tls.over_limit},
              {"evicted", c.tls.evicted},
              {"deadline_expired", c.tls.deadline_expired},
              {"handshake_failed", c.tls.handshake_failed},
              {"wrong_alpn", c.tls.wrong_alpn},
              {"request_too_long", c.tls.request_too_long}}},
            {"keys",
             {{"ids", ids},
              {"generation", keys.generation},
              {"rotation_s", keys.rotation_s},
              {"current_key_age_s", keys.keys.empty() ? 0 : now_s - keys.keys.front().created},
              {"store",
               {{"kind", store.kind},
                {"reachable", store.reachable},
                {"endpoint", store.endpoint},
                {"problem", store.problem},
                {"writes", store.writes},
                {"conflicts", store.conflicts},
                {"failures", store.failures}}}}}};
}

}  // namespace

std::string status_json(const server::NtpServer& ntp, const proto::ClockSnapshot& clock,
                        const std::string& clock_source, const TenantRole* tenants,
                        const VendordataProcess* vendordata, const NtsRole* nts,
                        const ReloadRecord& reload) {
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
    out["nts_seal_s"] = static_cast<double>(ntp.nts_seal_ns()) / 1e9;
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
                                {"nts_ke_listeners", s.nts_ke_listeners},
                                {"received", s.received},
                                {"answered", s.answered}});
        }
    }
    out["tenant_networks"] = networks;
    if (vendordata != nullptr) {
        out["vendordata"] = vendordata->status();
    }
    if (nts != nullptr) {
        out["nts"] = nts_status(*nts, now.ns / 1'000'000'000);
    }
    return out.dump(2) + "\n";
}

}  // namespace cloudtime::daemon
