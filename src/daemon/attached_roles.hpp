// SPDX-License-Identifier: Apache-2.0
// The roles a config may add beside the NTP server: NTS (key establishment and the cookie
// keys), tenant networks, and the vendordata endpoint's process. Each wraps the runner of
// its room, made (as root) before the privileges are dropped.
#pragma once

#include <memory>
#include <optional>

#include "daemon/role.hpp"
#include "nts/nts_runner.hpp"
#include "serve/ntp_server.hpp"
#include "tenant/tenant_runner.hpp"
#include "vendordata/vendordata_process.hpp"

namespace cloudtime::daemon {

class NtsRole final : public Role {
  public:
    NtsRole(std::unique_ptr<NtsRunner> runner, server::NtpServer& ntp)
        : runner_(std::move(runner)), ntp_(ntp) {}
    server::NtsKeService& key_establishment() { return runner_->key_establishment(); }

    // Loads (or makes) the cookie keys and hands them to the NTP workers, now and at every
    // rotation.
    Status start() override;
    void tick() override;
    // A new certificate and key, read and checked as a pair before anything is applied.
    Status check_reload(const Config& next) override;
    Expected<RoleReload> apply_reload(const LoadedConfig& next, const Config& running) override;
    void add_status(nlohmann::json& doc, proto::UnixTime now) const override;
    void add_metrics(metrics::Exposition& e, proto::UnixTime now) const override;

  private:
    std::unique_ptr<NtsRunner> runner_;
    server::NtpServer& ntp_;
    std::optional<sys::TlsCredentials> next_credentials_;  // between check and apply
};

class TenantRole final : public Role {
  public:
    // `key_establishment`: where namespaces' NTS-KE listeners go (null when NTS is off).
    TenantRole(std::unique_ptr<TenantRunner> runner, server::NtpServer& ntp,
               server::NtsKeService* key_establishment)
        : runner_(std::move(runner)), ntp_(ntp), key_establishment_(key_establishment) {}

    Status start() override;
    // The privileged helper's end: readable when it has gone.
    int fd() const override { return runner_ ? runner_->helper_lost_fd() : -1; }
    std::optional<int> on_readable() override;
    Expected<RoleReload> apply_reload(const LoadedConfig& next, const Config& running) override;
    void on_hangup() override;
    void log_state() const override;
    void add_status(nlohmann::json& doc, proto::UnixTime now) const override;
    void add_metrics(metrics::Exposition& e, proto::UnixTime now) const override;
    // Takes every tenant network's sockets back, before the NTP workers stop.
    void stop() override { runner_.reset(); }

  private:
    std::unique_ptr<TenantRunner> runner_;
    server::NtpServer& ntp_;
    server::NtsKeService* key_establishment_;
};

class VendordataRole final : public Role {
  public:
    explicit VendordataRole(std::unique_ptr<VendordataProcess> process)
        : process_(std::move(process)) {}

    int fd() const override { return process_->fd(); }
    std::optional<int> on_readable() override;
    void tick() override { process_->on_tick(); }
    // Its process reads [vendordata] and the log level: replaced only when they changed.
    Expected<RoleReload> apply_reload(const LoadedConfig& next, const Config& running) override;
    void add_status(nlohmann::json& doc, proto::UnixTime now) const override;
    void add_metrics(metrics::Exposition& e, proto::UnixTime now) const override;

  private:
    std::unique_ptr<VendordataProcess> process_;
};

}  // namespace cloudtime::daemon
