// SPDX-License-Identifier: Apache-2.0
#include "daemon/attached_roles.hpp"

#include <spdlog/spdlog.h>

#include "daemon/preflight.hpp"
#include "daemon/status.hpp"
#include "metrics/metrics.hpp"
#include "metrics/nts_metrics.hpp"
#include "metrics/vendordata_metrics.hpp"
#include "sys/clock.hpp"

namespace cloudtime::daemon {

namespace {

std::int64_t unix_seconds() {
    return sys::realtime_now().ns / 1'000'000'000;
}

}  // namespace

Status NtsRole::start() {
    return runner_->start(unix_seconds, [this](std::shared_ptr<const proto::CookieKeyring> keys) {
        ntp_.set_nts_keys(std::move(keys));
    });
}

void NtsRole::tick() {
    runner_->tick(unix_seconds());
}

Status NtsRole::check_reload(const Config& next) {
    next_credentials_.reset();
    if (!next.nts.enabled) {
        return Done{};
    }
    auto read = read_nts_credentials(next.nts);
    if (!read) {
        return Error{read.error()};
    }
    next_credentials_ = std::move(read).value();
    return Done{};
}

Expected<RoleReload> NtsRole::apply_reload(const LoadedConfig& next, const Config& /*running*/) {
    if (next_credentials_) {
        // Checked as a pair: making the TLS context of them does not fail.
        if (auto used = runner_->use_credentials(next.config.nts, *next_credentials_); !used) {
            spdlog::error("reload: {}: the certificate in use serves on", used.error());
        }
        next_credentials_.reset();
    }
    return RoleReload{};
}

void NtsRole::add_status(nlohmann::json& doc, proto::UnixTime now) const {
    add_nts_status(doc, *runner_, now);
}

void NtsRole::add_metrics(metrics::Exposition& e, proto::UnixTime now) const {
    nts_metrics(e, *runner_, ntp_.totals(), now.ns / 1'000'000'000);
}

Status TenantRole::start() {
    if (auto started = runner_->start(ntp_, key_establishment_); !started) {
        return Error{"cannot follow tenant networks: " + started.error()};
    }
    return Done{};
}

std::optional<int> TenantRole::on_readable() {
    // Serving on without it would look healthy while no new tenant network is ever served:
    // exit non-zero so that the service manager starts everything again.
    const std::string how = runner_->helper_end();
    spdlog::critical(
        "tenant networks cannot be followed without the privileged helper ({}): stopping (exit "
        "status 1) to be started again",
        how);
    return 1;
}

Expected<RoleReload> TenantRole::apply_reload(const LoadedConfig& next, const Config& /*running*/) {
    if (next.config.tenant_networks.enabled) {
        if (auto reconfigured = runner_->reconfigure(next.config); !reconfigured) {
            spdlog::error("reload: {}: tenant networks stay as they were", reconfigured.error());
        }
    }
    return RoleReload{.applied = "tenant networks", .restart_needed = {}};
}

void TenantRole::on_hangup() {
    runner_->reconcile();
}

void TenantRole::log_state() const {
    runner_->log_status();
}

void TenantRole::add_status(nlohmann::json& doc, proto::UnixTime /*now*/) const {
    add_tenant_status(doc, *runner_);
}

void TenantRole::add_metrics(metrics::Exposition& e, proto::UnixTime /*now*/) const {
    tenant_metrics(e, *runner_);
}

std::optional<int> VendordataRole::on_readable() {
    process_->on_readable();
    return std::nullopt;
}

Expected<RoleReload> VendordataRole::apply_reload(const LoadedConfig& next, const Config& running) {
    const Config& c = next.config;
    if (c.vendordata == running.vendordata && c.log_level == running.log_level) {
        return RoleReload{};
    }
    if (auto restarted = process_->reconfigure(c, next.source); !restarted) {
        spdlog::error("reload: {}", restarted.error());
    }
    return RoleReload{.applied = "vendordata policy and rules (its process replaced)",
                      .restart_needed = {}};
}

void VendordataRole::add_status(nlohmann::json& doc, proto::UnixTime /*now*/) const {
    doc["vendordata"] = process_->status();
}

void VendordataRole::add_metrics(metrics::Exposition& e, proto::UnixTime /*now*/) const {
    vendordata_metrics(e, process_->status());
}

}  // namespace cloudtime::daemon
