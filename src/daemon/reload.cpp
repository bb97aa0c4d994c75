#include "daemon/reload.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <utility>

#include "daemon/preflight.hpp"
#include "sys/clock.hpp"

namespace cloudtime::daemon {

server::ServerOptions server_options(const Config& config) {
    return {
        .listen = config.listen,
        .threads = config.threads,
        .batch_size = config.batch_size,
        .receive_buffer = static_cast<int>(config.receive_buffer),
        .policy = proto::ServerPolicy{},
        .rate_limit = config.rate_limit,
        .access = proto::AccessList(config.access_rules, config.access_default),
        .interleaved_records = config.interleaved ? config.interleaved_records : 0,
    };
}

server::ClockKeeperOptions keeper_options(const Config& config) {
    return {.holdover_s = config.holdover_s,
            .restart_grace_s = config.restart_grace_s,
            .leap_mode = config.leap_mode,
            .smear = config.smear,
            .leap_seconds_file = config.leap_seconds_file};
}

void reload(const ConfigLoader& loader, const Config& started, LoadedConfig& running,
            const Reloadable& roles, ReloadRecord& record) {
    auto& [ntp, keeper, vendordata, tenants, nts] = roles;
    ++record.count;
    const auto rejected = [&record](const std::string& why) {
        spdlog::error("reload: {}: the running configuration stays", why);
        record.applied = false;
        record.error = why;
    };
    spdlog::info("reload: reading {}", loader.origin());
    auto next = loader.load();
    if (!next) {
        rejected(next.error());
        return;
    }
    const Config& c = next->config;
    // Every file the reload uses is read and checked before anything is applied.
    std::optional<sys::TlsCredentials> nts_tls;
    if (nts && c.nts.enabled) {
        auto tls = read_nts_credentials(c.nts);
        if (!tls) {
            rejected(tls.error());
            return;
        }
        nts_tls = std::move(tls).value();
    }
    auto options = server_options(c);
    auto updated = ntp.update(options);
    // A new port below 1024 that this process (no longer root) may not bind: everything else
    // is applied on the addresses served now, and a restart binds it.
    const bool listen_needs_restart = !updated && updated.error_code() == EACCES;
    if (listen_needs_restart) {
        options.listen = ntp.configured_addresses();
        updated = ntp.update(options);
    }
    if (!updated) {
        rejected(updated.error());
        return;
    }
    if (tenants && c.tenant_networks.enabled) {
        if (auto reconfigured = tenants->reconfigure(c); !reconfigured) {
            spdlog::error("reload: {}: tenant networks stay as they were", reconfigured.error());
        }
    }
    if (nts_tls) {
        // Checked above as a pair: making the TLS context of them does not fail.
        if (auto used = nts->use_credentials(c.nts, *nts_tls); !used) {
            spdlog::error("reload: {}: the certificate in use serves on", used.error());
        }
    }
    keeper.reconfigure(keeper_options(c));
    keeper.reload_leap_seconds(sys::realtime_now());
    spdlog::set_level(spdlog::level::from_str(c.log_level));
    // Its process reads [vendordata] and the log level: replaced only when they changed.
    const bool replace_vendordata = vendordata && (!(c.vendordata == running.config.vendordata) ||
                                                   c.log_level != running.config.log_level);
    if (replace_vendordata) {
        if (auto restarted = vendordata->reconfigure(c, next->source); !restarted) {
            spdlog::error("reload: {}", restarted.error());
        }
    }
    std::vector<std::string> listen;
    for (const auto& a : ntp.bound_addresses()) {
        listen.push_back(a.to_string());
    }
    spdlog::info(
        "reload: applied: NTP on {}; access list {} rules, default {}; rate limit {}; leap {}; "
        "log level {}{}{}",
        fmt::join(listen, ", "), c.access_rules.size(), proto::access_action_name(c.access_default),
        c.rate_limit.enabled
            ? fmt::format("1 per {} s, burst {}", c.rate_limit.interval_s, c.rate_limit.burst)
            : std::string("off"),
        c.leap_mode == proto::LeapMode::smear ? "smear" : "pass", c.log_level,
        tenants ? "; tenant networks" : "",
        replace_vendordata ? "; vendordata policy and rules (its process replaced)" : "");
    record.applied = true;
    record.error.clear();
    record.restart_needed = keys_needing_restart(started, c);
    if (listen_needs_restart) {
        record.restart_needed.insert(record.restart_needed.begin(), "server.listen");
    }
    if (const auto& restart = record.restart_needed; !restart.empty()) {
        spdlog::warn("reload: {} changed: only a restart applies {} (systemctl restart cloudtimed)",
                     fmt::join(restart, ", "), restart.size() == 1 ? "it" : "them");
    }
    running = std::move(next).value();
}

std::vector<std::string> keys_needing_restart(const config::Config& started,
                                              const config::Config& next) {
    const auto& a = started;
    const auto& b = next;
    const std::pair<const char*, bool> keys[] = {
        {"server.user", a.user != b.user},
        {"server.runtime_directory", a.runtime_directory != b.runtime_directory},
        {"server.threads", a.threads != b.threads},
        {"server.batch_size", a.batch_size != b.batch_size},
        {"server.receive_buffer", a.receive_buffer != b.receive_buffer},
        {"server.seccomp", a.seccomp != b.seccomp},
        {"clock.source", a.clock_source != b.clock_source},
        {"clock.chrony_socket", a.chrony_socket != b.chrony_socket},
        {"clock.chrony_command_address", a.chrony_command_address != b.chrony_command_address},
        {"clock.kernel_stratum", a.kernel_stratum != b.kernel_stratum},
        {"clock.kernel_refid", a.kernel_refid != b.kernel_refid},
        {"clock.local_stratum", a.local_stratum != b.local_stratum},
        {"clock.local_refid", a.local_refid != b.local_refid},
        {"tenant_networks.enabled", a.tenant_networks.enabled != b.tenant_networks.enabled},
        {"vendordata.enabled", a.vendordata.enabled != b.vendordata.enabled},
        {"vendordata.listen", a.vendordata.enabled && b.vendordata.enabled &&
                                  !(a.vendordata.listen == b.vendordata.listen)},
        {"vendordata.tls_certificate",
         a.vendordata.tls_certificate != b.vendordata.tls_certificate},
        {"vendordata.tls_key", a.vendordata.tls_key != b.vendordata.tls_key},
        {"status.socket", a.status_socket != b.status_socket},
        {"metrics.enabled", a.metrics.enabled != b.metrics.enabled},
        {"metrics.listen",
         a.metrics.enabled && b.metrics.enabled && !(a.metrics.listen == b.metrics.listen)},
        {"metrics.allowed_clients", !(a.metrics.allowed_clients == b.metrics.allowed_clients)},
        {"nts.enabled", a.nts.enabled != b.nts.enabled},
        {"nts.ke_port", a.nts.ke_port != b.nts.ke_port},
        {"nts.key_file", a.nts.key_file != b.nts.key_file},
        {"nts.rotation", a.nts.rotation_s != b.nts.rotation_s},
        {"nts.max_connections", a.nts.max_connections != b.nts.max_connections},
        {"nts.max_connections_per_client",
         a.nts.max_connections_per_client != b.nts.max_connections_per_client},
        {"nts.ke_timeout_ms", a.nts.ke_timeout_ms != b.nts.ke_timeout_ms},
    };
    std::vector<std::string> changed;
    for (const auto& [key, differs] : keys) {
        if (differs) {
            changed.emplace_back(key);
        }
    }
    return changed;
}

}  // namespace cloudtime::daemon
