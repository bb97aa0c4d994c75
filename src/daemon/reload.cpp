// SPDX-License-Identifier: Apache-2.0
#include "daemon/reload.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <utility>

#include "config/config_keys.hpp"

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
    for (auto& key : config::keys_needing_restart(started, c)) {
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

}  // namespace cloudtime::daemon
