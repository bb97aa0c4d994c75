// SPDX-License-Identifier: Apache-2.0
// The keys of [status], [metrics] and [log]: what cloudtimed shows of itself.
#include <spdlog/common.h>

#include "config/config_keys.hpp"

namespace cloudtime::config {

namespace {

constexpr std::int64_t kMaxSeries = 100'000;

Status read_log_level(const KeyReading& v, std::string& out) {
    std::string level;
    if (auto s = v.text(level); !s) {
        return s;
    }
    if (spdlog::level::from_str(level) == spdlog::level::off && level != "off") {
        return v.fail("log.level '" + level +
                      "' is not one of trace, debug, info, warn, error, critical, off");
    }
    out = std::move(level);
    return Done{};
}

const ConfigKey kStatusKeys[] = {
    {.name = "socket",
     .value = "\"/run/cloudtime/status.sock\"",
     .type = KeyType::other,
     .reload = KeyReload::restart,
     .kind = "string: a path, or \"\" for none",
     .summary = "`cloudtime status` asks here; \"\" = no status socket",
     .doc = "a Unix stream socket where `cloudtime status` asks the running daemon for its state "
            "(one JSON document: clock, listen addresses, counters, tenant networks with their "
            "addresses and counters). Created at start (its directory too), mode 0666 (status "
            "holds nothing secret), removed at stop. A socket file nobody answers on is replaced; "
            "one that another running cloudtimed serves makes this one refuse to start (exit 1, "
            "naming that one's pid). `\"\"`: no status socket.",
     .read = [](const KeyReading& v, Config& c) { return v.text(c.status_socket); },
     .same = [](const Config& a, const Config& b) { return a.status_socket == b.status_socket; }},
};

const ConfigKey kMetricsKeys[] = {
    {.name = "enabled",
     .value = "false",
     .type = KeyType::boolean,
     .reload = KeyReload::restart,
     .summary = "Prometheus text format on http://LISTEN/metrics",
     .doc = "serve Prometheus metrics (text format 0.0.4) on `GET /metrics`.",
     .read = [](const KeyReading& v, Config& c) { return v.boolean(c.metrics.enabled); },
     .same = [](const Config& a,
                const Config& b) { return a.metrics.enabled == b.metrics.enabled; }},
    {.name = "listen",
     .value = "\"127.0.0.1:9124\"",
     .type = KeyType::other,
     .reload = KeyReload::restart,
     .kind = "\"ADDR:PORT\"",
     .summary = "ADDR:PORT (chrony_exporter has 9123, node_exporter 9100)",
     .doc =
         "ADDR:PORT (chrony_exporter uses 9123, node_exporter 9100). A restart applies a change.",
     .read = [](const KeyReading& v, Config& c) { return v.address(c.metrics.listen); },
     .same =
         [](const Config& a, const Config& b) {
             return !a.metrics.enabled || !b.metrics.enabled ||
                    a.metrics.listen == b.metrics.listen;
         }},
    {.name = "allowed_clients",
     .value = "[]",
     .type = KeyType::other,
     .reload = KeyReload::restart,
     .kind = "array of prefixes",
     .summary = "prefixes allowed to scrape (\"10.0.0.0/8\"); [] = any that can connect",
     .doc = "prefixes allowed to scrape (`\"10.0.0.0/8\"`); others get 403 before anything is "
            "read. `[]`: any client that can connect. A restart applies a change.",
     .read = [](const KeyReading& v, Config& c) { return v.prefixes(c.metrics.allowed_clients); },
     .same =
         [](const Config& a, const Config& b) {
             return a.metrics.allowed_clients == b.metrics.allowed_clients;
         }},
    {.name = "max_tenant_series",
     .value = "100",
     .type = KeyType::integer,
     .lo = 0,
     .hi = kMaxSeries,
     .summary = "tenant namespaces with series of their own; the rest summed as \"other\"",
     .doc = "tenant namespaces that get series of their own (given when a namespace is attached, "
            "while fewer have one); the others, and every released namespace, are summed in "
            "`namespace=\"(other)\"`, so that no series ever goes down.",
     .read = [](const KeyReading& v, Config& c) { return v.integer(c.metrics.max_tenant_series); }},
};

const ConfigKey kLogKeys[] = {
    {.name = "level",
     .value = "\"info\"",
     .type = KeyType::choice,
     .choices = "trace debug info warn error critical off",
     .summary = "trace | debug | info | warn | error | critical | off",
     .doc =
         "`trace`, `debug`, `info`, `warn`, `error`, `critical` or `off`; `--log-level` overrides.",
     .read = [](const KeyReading& v, Config& c) { return read_log_level(v, c.log_level); }},
};

const ConfigSection kOutputSections[] = {
    {.name = "status", .summary = "", .keys = kStatusKeys, .check = nullptr},
    {.name = "metrics", .summary = "", .keys = kMetricsKeys, .check = nullptr},
    {.name = "log", .summary = "", .keys = kLogKeys, .check = nullptr},
};

}  // namespace

std::span<const ConfigSection> output_sections() {
    return kOutputSections;
}

}  // namespace cloudtime::config
