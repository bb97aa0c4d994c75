// SPDX-License-Identifier: Apache-2.0
#include "daemon/vendordata_counts.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <limits>

#include "daemon/vendordata_endpoint.hpp"

namespace cloudtime::daemon {

namespace {
using metrics::Exposition;
using metrics::Type;

// The counts alone: unsigned integers and objects of them, `depth` levels at most.
nlohmann::json counts_only(const nlohmann::json& from, int depth) {
    nlohmann::json out = nlohmann::json::object();
    if (!from.is_object()) {
        return out;
    }
    for (const auto& [key, value] : from.items()) {
        if (value.is_number_unsigned()) {
            out[key] = value;
        } else if (value.is_object() && depth > 1) {
            out[key] = counts_only(value, depth - 1);
        }
    }
    return out;
}

// The process's reason, whatever shape the message has.
std::string error_in(const nlohmann::json& message) {
    const auto it = message.find("error");
    if (it == message.end()) {
        return "no reason given";
    }
    return it->is_string() ? it->get<std::string>() : it->dump();
}

std::uint64_t sum_of(const nlohmann::json& responses, int from, int to) {
    std::uint64_t n = 0;
    for (const auto& [code, count] : responses.items()) {
        const int c = std::atoi(code.c_str());
        if (c >= from && c < to && count.is_number_unsigned()) {
            n += count.get<std::uint64_t>();
        }
    }
    return n;
}

// `j[key]` when it is an object; an empty object otherwise.
const nlohmann::json& object_in(const nlohmann::json& j, const char* key) {
    static const nlohmann::json empty = nlohmann::json::object();
    if (!j.is_object()) {
        return empty;
    }
    const auto it = j.find(key);
    return it != j.end() && it->is_object() ? *it : empty;
}

std::uint64_t count_in(const nlohmann::json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

}  // namespace

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

ProcessMessage read_process_message(std::string_view text) {
    ProcessMessage message;
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) {
        return message;
    }
    if (const auto counters = j.find("counters"); counters != j.end() && counters->is_object()) {
        message.kind = ProcessMessage::Kind::counters;
        message.counters = counts_only(*counters, kMaxCountDepth);
    } else if (j.contains("ready")) {
        message.kind = ProcessMessage::Kind::ready;
    } else if (j.contains("error")) {
        message.kind = ProcessMessage::Kind::error;
        message.error = error_in(j);
    }
    return message;
}

void add_counts(nlohmann::json& into, const nlohmann::json& from) {
    if (!into.is_object() || !from.is_object()) {
        return;
    }
    for (const auto& [key, value] : from.items()) {
        if (value.is_object()) {
            if (!into[key].is_object()) {
                into[key] = nlohmann::json::object();
            }
            add_counts(into[key], value);
        } else if (value.is_number_unsigned() && key != "open") {
            auto& slot = into[key];
            const std::uint64_t had = slot.is_number_unsigned() ? slot.get<std::uint64_t>() : 0;
            const std::uint64_t more = value.get<std::uint64_t>();
            // Saturated, not wrapped: a total that went back to 0 would read as a reset.
            slot = more > std::numeric_limits<std::uint64_t>::max() - had
                       ? std::numeric_limits<std::uint64_t>::max()
                       : had + more;
        }
    }
}

nlohmann::json vendordata_status(const nlohmann::json& totals, const nlohmann::json& counters,
                                 const ProcessIdentity& identity) {
    nlohmann::json out = totals.is_object() ? totals : nlohmann::json::object();
    add_counts(out, counters);
    const nlohmann::json responses = object_in(out, "responses");
    out["url"] = identity.url;
    out["pid"] = identity.pid;
    out["restarts"] = identity.restarts;
    out["open"] = count_in(counters, "open");
    out["answered"] = sum_of(responses, 200, 300);
    out["refused"] = sum_of(responses, 400, 600);
    return out;
}

}  // namespace cloudtime::daemon
