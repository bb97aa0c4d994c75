#include "daemon/reload.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <utility>

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
            const RoleList& roles, ReloadRecord& record) {
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
    for (Role* role : roles) {
        if (auto checked = role->check_reload(c); !checked) {
            rejected(checked.error());
            return;
        }
    }
    std::vector<std::string> applied;
    std::vector<std::string> restart_needed;
    for (Role* role : roles) {
        auto done = role->apply_reload(*next, running.config);
        if (!done) {
            rejected(done.error());  // the first role's (role.hpp): nothing applied yet
            return;
        }
        if (!done->applied.empty()) {
            applied.push_back(std::move(done->applied));
        }
        restart_needed.insert(restart_needed.end(), done->restart_needed.begin(),
                              done->restart_needed.end());
    }
    spdlog::set_level(spdlog::level::from_str(c.log_level));
    applied.push_back("log level " + c.log_level);
    spdlog::info("reload: applied: {}", fmt::join(applied, "; "));
    for (auto& key : keys_needing_restart(started, c)) {
        restart_needed.push_back(std::move(key));
    }
    record.applied = true;
    record.error.clear();
    record.restart_needed = std::move(restart_needed);
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
