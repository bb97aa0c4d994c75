// SPDX-License-Identifier: Apache-2.0
#include "daemon/status.hpp"

#include <nlohmann/json.hpp>

#include "daemon/reload.hpp"
#include "nts/nts_runner.hpp"
#include "proto/refid.hpp"
#include "sys/paths.hpp"
#include "tenant/tenant_runner.hpp"

namespace cloudtime::daemon {

// Key establishment's counters and the cookie keys in force (ids only: never a key).
void add_nts_status(nlohmann::json& doc, const NtsRunner& nts, proto::UnixTime now) {
    const std::int64_t now_s = now.ns / 1'000'000'000;
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
    doc["nts"] = {
        {"certificate_expiry_s", nts.certificate_expiry()},
        {"ke",
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

void add_clock_status(nlohmann::json& doc, const proto::ClockSnapshot& clock,
                      std::string_view source, proto::UnixTime now) {
    doc["clock"] = {{"source", source},
                    {"synchronized", clock.synchronized},
                    {"stratum", clock.synchronized ? clock.stratum : 0},
                    {"refid", proto::refid_to_string(clock.refid, clock.stratum)},
                    {"leap", proto::leap_name(clock.leap)},
                    {"root_delay_s", clock.root_delay_s},
                    {"root_dispersion_s", proto::root_dispersion_at(clock, now)},
                    {"reference_time_s", static_cast<double>(clock.reference_time.ns) / 1e9},
                    {"smearing", clock.smear.active}};
}

void add_ntp_status(nlohmann::json& doc, const server::NtpServer& ntp) {
    nlohmann::json listen = nlohmann::json::array();
    for (const auto& address : ntp.bound_addresses()) {
        listen.push_back(address.to_string());
    }
    doc["listen"] = listen;
    doc["threads"] = ntp.thread_count();
    doc["send_delay_s"] = static_cast<double>(ntp.send_delay_ns()) / 1e9;
    doc["nts_seal_s"] = static_cast<double>(ntp.nts_seal_ns()) / 1e9;
    const server::CounterTotals t = ntp.totals();
    // Every received datagram is answered, dropped (for one reason) or a send error. The
    // same named counters as the log's, with no dot in a key: "dropped.<reason>" goes under
    // dropped_by_reason, "a.b" under a's object.
    nlohmann::json counters = nlohmann::json::object();
    nlohmann::json dropped = nlohmann::json::object();
    for (const auto& [name, value] : t.named()) {
        if (name.starts_with(server::kDroppedPrefix)) {
            dropped[name.substr(server::kDroppedPrefix.size())] = value;
        } else if (const auto dot = name.find('.'); dot != std::string::npos) {
            counters[name.substr(0, dot)][name.substr(dot + 1)] = value;
        } else {
            counters[name] = value;
        }
    }
    counters["dropped_by_reason"] = dropped;
    doc["counters"] = counters;
    // The tenant networks served: always in the document, empty when the role is off.
    doc["tenant_networks"] = nlohmann::json::array();
}

void add_tenant_status(nlohmann::json& doc, const TenantRunner& tenants) {
    nlohmann::json networks = nlohmann::json::array();
    for (const auto& s : tenants.status()) {
        networks.push_back({{"namespace", s.name},
                            {"addresses", s.addresses},
                            {"nts_ke_listeners", s.nts_ke_listeners},
                            {"received", s.received},
                            {"answered", s.answered}});
    }
    doc["tenant_networks"] = networks;
}

void add_daemon_status(nlohmann::json& doc, const ReloadRecord& reload, proto::UnixTime started,
                       proto::UnixTime now) {
    // The document's shape: raised when a key changes meaning or moves (added keys keep it).
    doc["schema"] = kStatusSchema;
    doc["version"] = CLOUDTIME_VERSION;
    doc["started_s"] = static_cast<double>(started.ns) / 1e9;
    doc["uptime_s"] = static_cast<double>(now.ns - started.ns) / 1e9;
    // `cloudtime reload` signals this process and waits for reload.count to move.
    doc["pid"] = sys::process_id();
    doc["reload"] = {{"count", reload.count},
                     {"applied", reload.applied},
                     {"error", reload.error},
                     {"restart_needed", reload.restart_needed}};
}

}  // namespace cloudtime::daemon
