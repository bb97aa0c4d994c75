// SPDX-License-Identifier: Apache-2.0
// The roles every cloudtimed runs: the NTP server, the clock it serves (refreshed every second
// and published to the workers), and a watch on the descriptors left.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "clock/clock_keeper.hpp"
#include "daemon/role.hpp"
#include "serve/ntp_server.hpp"
#include "serve/snapshot_cell.hpp"

namespace cloudtime::daemon {

// The clock served: the keeper over the configured source, refreshed every tick and published
// to the workers through the cell.
class ClockRole final : public Role {
  public:
    // Reads the leap-seconds list and the first snapshot, and publishes it.
    ClockRole(std::unique_ptr<server::ClockSource> source, const Config& config,
              std::string source_name);
    server::SnapshotCell& cell() { return cell_; }
    const proto::ClockSnapshot& snapshot() const { return snapshot_; }
    std::string describe() const { return keeper_.describe(); }

    void tick() override;
    Expected<RoleReload> apply_reload(const LoadedConfig& next, const Config& running) override;
    void add_status(nlohmann::json& doc, proto::UnixTime now) const override;
    void add_metrics(metrics::Exposition& e, proto::UnixTime now) const override;

  private:
    server::ClockKeeper keeper_;
    server::SnapshotCell cell_;
    proto::ClockSnapshot snapshot_;
    std::string source_name_;
};

// The NTP server on server.listen; tenant networks' sockets join its workers.
class NtpRole final : public Role {
  public:
    // Binds (as root: a port below 1024); the workers start with start().
    static Expected<std::unique_ptr<NtpRole>> bind(const Config& config,
                                                   const server::SnapshotCell& clock,
                                                   std::int8_t precision);
    server::NtpServer& server() { return *server_; }
    const server::NtpServer& server() const { return *server_; }

    Status start() override;
    Expected<RoleReload> apply_reload(const LoadedConfig& next, const Config& running) override;
    void log_state() const override;
    void add_status(nlohmann::json& doc, proto::UnixTime now) const override;
    void add_metrics(metrics::Exposition& e, proto::UnixTime now) const override;
    void stop() override;

  private:
    NtpRole(std::unique_ptr<server::NtpServer> server, const Config& config, std::int8_t precision)
        : server_(std::move(server)),
          rate_limit_(config.rate_limit),
          interleaved_(config.interleaved),
          precision_(precision) {}
    std::unique_ptr<server::NtpServer> server_;
    proto::RateLimitPolicy rate_limit_;  // as started, for the start's log lines
    bool interleaved_;
    std::int8_t precision_;
    bool stopped_ = false;
};

// Warns, at most once a minute and with numbers, when descriptors run short: tenant networks
// that come then cannot be served. The limit is read at each tick: an operator may raise it
// (or lower it) while the daemon runs, with prlimit --pid. (HTTP connections live in the
// vendordata process, with a limit of their own, and cannot eat these.)
class FileBudget final : public Role {
  public:
    void tick() override;

  private:
    std::optional<std::chrono::steady_clock::time_point> warned_;
};

}  // namespace cloudtime::daemon
