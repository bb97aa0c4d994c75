// SPDX-License-Identifier: Apache-2.0
#include "metrics/metrics.hpp"

#include <fmt/format.h>

#include "metrics/exposition.hpp"
#include "sys/resource_limits.hpp"
#include "tenant/tenant_runner.hpp"

namespace cloudtime::daemon {

using metrics::Exposition;
using metrics::Type;

namespace {

constexpr std::string_view kOtherNamespaces = "(other)";

double seconds(proto::UnixTime t) {
    return static_cast<double>(t.ns) / 1e9;
}

}  // namespace

void process_metrics(Exposition& e, proto::UnixTime started) {
    e.family("cloudtime_build_info", Type::gauge, "The running cloudtimed's version (always 1).");
    e.sample({{"version", CLOUDTIME_VERSION}}, std::uint64_t{1});
    e.family("cloudtime_start_time_seconds", Type::gauge,
             "When cloudtimed started, in seconds since the Unix epoch.");
    e.sample(seconds(started));
    e.family("cloudtime_process_resident_memory_bytes", Type::gauge,
             "Resident memory of the serving process.");
    e.sample(sys::resident_memory_bytes());
    e.family("cloudtime_process_open_fds", Type::gauge,
             "Open file descriptors of the serving process.");
    e.sample(std::uint64_t{sys::open_file_count()});
}

namespace {

// {reason, count} for every drop reason, "oversized" included: the status socket's names.
std::vector<std::pair<std::string, std::uint64_t>> drops(const server::CounterTotals& t) {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    for (const auto& [name, n] : t.named()) {
        if (name.starts_with(server::kDroppedPrefix)) {
            out.emplace_back(name.substr(server::kDroppedPrefix.size()), n);
        }
    }
    return out;
}

// Per server.listen address (tenant networks have their own series).
void listen_metrics(Exposition& e, const std::vector<server::NtpServer::AddressTotals>& all) {
    e.family("cloudtime_ntp_listen_requests_received_total", Type::counter,
             "Datagrams received on a server.listen address.");
    for (const auto& a : all) {
        e.sample({{"address", a.address.to_string()}}, a.totals.received);
    }
    e.family("cloudtime_ntp_listen_responses_sent_total", Type::counter,
             "Replies sent from a server.listen address, kiss-o'-death replies included.");
    for (const auto& a : all) {
        e.sample({{"address", a.address.to_string()}}, a.totals.answered);
    }
    e.family("cloudtime_ntp_listen_requests_dropped_total", Type::counter,
             "Datagrams not answered on a server.listen address, by reason.");
    for (const auto& a : all) {
        for (const auto& [reason, n] : drops(a.totals)) {
            e.sample({{"address", a.address.to_string()}, {"reason", reason}}, n);
        }
    }
    e.family("cloudtime_ntp_listen_kod_sent_total", Type::counter,
             "Kiss-o'-death replies sent from a server.listen address: RATE, DENY.");
    for (const auto& a : all) {
        e.sample({{"address", a.address.to_string()}, {"code", "RATE"}}, a.totals.kod_sent);
        e.sample({{"address", a.address.to_string()}, {"code", "DENY"}}, a.totals.deny_sent);
    }
}

}  // namespace

void ntp_metrics(Exposition& e, const server::NtpServer& ntp) {
    const server::CounterTotals t = ntp.totals();
    e.family("cloudtime_ntp_listen_addresses", Type::gauge, "Addresses server.listen serves.");
    e.sample(std::uint64_t{ntp.bound_addresses().size()});
    e.family("cloudtime_ntp_worker_threads", Type::gauge, "NTP worker threads.");
    e.sample(std::uint64_t{ntp.thread_count()});
    e.family("cloudtime_ntp_requests_received_total", Type::counter,
             "Datagrams received on every NTP socket (tenant networks included).");
    e.sample(t.received);
    e.family("cloudtime_ntp_responses_sent_total", Type::counter,
             "Replies sent, kiss-o'-death replies included.");
    e.sample(t.answered);
    e.family("cloudtime_ntp_requests_dropped_total", Type::counter,
             "Datagrams not answered, by reason.");
    for (const auto& [reason, n] : drops(t)) {
        e.sample({{"reason", reason}}, n);
    }
    e.family("cloudtime_ntp_kod_sent_total", Type::counter,
             "Kiss-o'-death replies sent: RATE (rate limit), DENY (access list).");
    e.sample({{"code", "RATE"}}, t.kod_sent);
    e.sample({{"code", "DENY"}}, t.deny_sent);
    e.family("cloudtime_ntp_rate_limit_leaked_total", Type::counter,
             "Requests over their source's rate that were answered anyway (leak).");
    e.sample(t.leaked);
    e.family("cloudtime_ntp_send_errors_total", Type::counter, "Replies the kernel refused.");
    e.sample(t.send_errors);
    e.family("cloudtime_ntp_interleaved_responses_sent_total", Type::counter,
             "Replies in interleaved mode (RFC 9769), by where the transmit time they carried "
             "came from: daemon (read before the send), kernel (software timestamp).");
    for (std::size_t i = 0; i < t.interleaved.size(); ++i) {
        e.sample({{"transmit", proto::transmit_source_name(static_cast<proto::TransmitSource>(i))}},
                 t.interleaved[i]);
    }
    e.family("cloudtime_ntp_kernel_tx_timestamps_total", Type::counter,
             "Kernel transmit timestamps of replies read and kept for the client's next request.");
    e.sample(t.kernel_tx_stamps);
    e.family("cloudtime_ntp_send_delay_seconds", Type::gauge,
             "Measured delay of a reply sent alone from the clock reading to the kernel's "
             "transmit stamp, added to basic replies' transmit time (largest of the workers).");
    e.sample(static_cast<double>(ntp.send_delay_ns()) / 1e9);
    e.family("cloudtime_ntp_interleaved_records", Type::gauge,
             "Replies the interleaved-mode table can hold (0: interleaved mode off).");
    e.sample(std::uint64_t{ntp.interleaved_records()});
    listen_metrics(e, ntp.address_totals());
}

void clock_metrics(Exposition& e, const proto::ClockSnapshot& c, const server::ClockKeeper& keeper,
                   std::string_view source, proto::UnixTime now) {
    e.family("cloudtime_clock_synchronized", Type::gauge,
             "1 when the served clock is synchronized, 0 while LI=3 is served.");
    e.sample({{"source", std::string(source)}}, std::uint64_t{c.synchronized ? 1U : 0U});
    e.family("cloudtime_clock_leap_indicator", Type::gauge,
             "The leap indicator served: 0 none, 1 insert, 2 delete, 3 unsynchronized.");
    e.sample(std::uint64_t{c.synchronized ? static_cast<unsigned>(c.leap) : 3U});
    e.family("cloudtime_clock_stratum", Type::gauge, "The stratum served (0 when unsynchronized).");
    e.sample(std::uint64_t{c.synchronized ? c.stratum : 0U});
    e.family("cloudtime_clock_root_delay_seconds", Type::gauge, "The root delay served.");
    e.sample(c.root_delay_s);
    e.family("cloudtime_clock_root_dispersion_seconds", Type::gauge,
             "The root dispersion served now.");
    e.sample(proto::root_dispersion_at(c, now));
    e.family("cloudtime_clock_reference_age_seconds", Type::gauge,
             "Seconds since the upstream last set or corrected the clock.");
    e.sample(c.reference_time.ns > 0 ? seconds(now) - seconds(c.reference_time) : 0.0);
    e.family("cloudtime_clock_holdover_active", Type::gauge,
             "1 while a lost upstream is held over (restart grace or holdover).");
    e.sample(std::uint64_t{keeper.holding_over() ? 1U : 0U});
    e.family("cloudtime_clock_smearing", Type::gauge, "1 while a leap second is being smeared.");
    e.sample(std::uint64_t{c.smear.active ? 1U : 0U});
    if (const auto expiry = keeper.leap_list_expiry()) {
        e.family("cloudtime_leap_seconds_list_expiry_timestamp_seconds", Type::gauge,
                 "When the leap-seconds list in use expires, in seconds since the Unix epoch.");
        e.sample(seconds(*expiry));
    }
}

void tenant_metrics(Exposition& e, const TenantRunner& tenants) {
    const server::TenantMetrics m = tenants.metrics();
    e.family("cloudtime_tenant_networks", Type::gauge, "Tenant namespaces served now.");
    e.sample(std::uint64_t{m.namespaces});
    e.family("cloudtime_tenant_sockets", Type::gauge, "Sockets open in tenant namespaces.");
    e.sample(std::uint64_t{m.sockets});
    e.family("cloudtime_tenant_networks_waiting", Type::gauge,
             "Tenant namespaces followed that still miss something: not enterable yet, a "
             "metadata address absent, a redirect that failed.");
    e.sample(std::uint64_t{m.waiting});
    e.family("cloudtime_tenant_router_redirects", Type::gauge,
             "Router namespaces served through cloudtimed's nftables redirect.");
    e.sample(std::uint64_t{m.routers});
    const auto per_namespace = [&](const char* name, const char* help, auto field,
                                   std::uint64_t other) {
        e.family(name, Type::counter, help);
        for (const auto& series : m.own) {
            e.sample({{"namespace", series.name}}, series.*field);
        }
        e.sample({{"namespace", std::string(kOtherNamespaces)}}, other);
    };
    per_namespace("cloudtime_tenant_requests_received_total",
                  "Datagrams received in a tenant namespace; \"(other)\": namespaces beyond "
                  "metrics.max_tenant_series and released ones.",
                  &server::TenantMetrics::Series::received, m.other_received);
    per_namespace("cloudtime_tenant_responses_sent_total",
                  "Replies sent in a tenant namespace; \"(other)\" as above.",
                  &server::TenantMetrics::Series::answered, m.other_answered);
}

}  // namespace cloudtime::daemon
