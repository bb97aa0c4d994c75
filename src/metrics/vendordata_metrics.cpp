// SPDX-License-Identifier: Apache-2.0
#include "metrics/vendordata_metrics.hpp"

#include <fmt/format.h>

#include "vendordata/vendordata_counts.hpp"
#include "vendordata/vendordata_endpoint.hpp"

namespace cloudtime::daemon {

using metrics::Exposition;
using metrics::Type;

void vendordata_metrics(Exposition& e, const nlohmann::json& v) {
    e.family("cloudtime_vendordata_responses_total", Type::counter,
             "Vendordata HTTP responses by status code (the server's own refusals included).");
    if (const auto it = v.find("responses"); it != v.end() && it->is_object()) {
        for (const auto& [code, n] : it->items()) {
            e.sample({{"code", code}}, n.is_number_unsigned() ? n.get<std::uint64_t>() : 0);
        }
    }
    e.family("cloudtime_vendordata_connections_total", Type::counter,
             "Vendordata connections accepted.");
    e.sample(count_in(v, "connections"));
    e.family("cloudtime_vendordata_connections_closed_total", Type::counter,
             "Vendordata connections closed by the server: over the per-client limit, evicted "
             "at the total limit, past the request deadline.");
    for (const char* reason : {"over_client_limit", "evicted", "deadline_expired"}) {
        e.sample({{"reason", reason}}, count_in(v, reason));
    }
    e.family("cloudtime_vendordata_open_connections", Type::gauge,
             "Vendordata connections open now.");
    e.sample(count_in(v, "open"));
    e.family("cloudtime_vendordata_process_restarts_total", Type::counter,
             "Times the vendordata process was started again after it ended.");
    e.sample(count_in(v, "restarts"));
    const nlohmann::json& endpoint = object_in(v, "endpoint");
    const nlohmann::json& deliveries = object_in(endpoint, "deliveries");
    e.family("cloudtime_vendordata_deliveries_total", Type::counter,
             "Instances answered: with time configuration, or opted out (cloudtime_ntp=off).");
    e.sample({{"choice", "time"}}, count_in(deliveries, "time"));
    e.sample({{"choice", "opted_out"}}, count_in(deliveries, "opted_out"));
    e.family("cloudtime_vendordata_log_lines_left_out_total", Type::counter,
             "Access log lines left out under a flood (at most 20 deliveries and one refusal of "
             "each kind a second are logged; the next line says how many were left out).");
    e.sample(count_in(endpoint, "log_lines_left_out"));
    e.family("cloudtime_vendordata_policy_rule_matches_total", Type::counter,
             "Requests a [[vendordata.rules]] entry matched, by its number in the config (from "
             "1; counted anew after a reload that replaces the vendordata process).");
    if (const auto rules = endpoint.find("rules_matched");
        rules != endpoint.end() && rules->is_object()) {
        for (const auto& [rule, n] : rules->items()) {
            e.sample({{"rule", rule}}, n.is_number_unsigned() ? n.get<std::uint64_t>() : 0);
        }
    }
    const nlohmann::json& latency = object_in(endpoint, "latency");
    const nlohmann::json& buckets = object_in(latency, "buckets");
    metrics::Histogram h;
    for (const double bound : VendordataEndpoint::kLatencyBounds) {
        h.upper_bounds.push_back(bound);
        h.counts.push_back(count_in(buckets, fmt::format("{}", bound).c_str()));
    }
    h.counts.push_back(count_in(buckets, "+Inf"));
    h.sum = static_cast<double>(count_in(latency, "sum_us")) / 1e6;
    e.family("cloudtime_vendordata_request_duration_seconds", Type::histogram,
             "Time from a whole request to its answer, in the vendordata process.");
    e.histogram({}, h);
}

}  // namespace cloudtime::daemon
