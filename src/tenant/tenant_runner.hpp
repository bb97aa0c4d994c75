// SPDX-License-Identifier: Apache-2.0
// The tenant-network role as the daemon runs it: following namespaces in this process, or —
// when the server drops root (server.user) — in a privileged helper forked before anything
// else, which passes ready sockets over a channel.
#pragma once

#include <sys/types.h>
#include <memory>
#include <optional>

#include "config/config.hpp"
#include "serve/ntp_server.hpp"
#include "tenant/tenant_channel.hpp"
#include "tenant/tenant_networks.hpp"
#include "tenant/tenant_registry.hpp"
#include "util/expected.hpp"

namespace cloudtime::daemon {

using config::Config;  // the daemon runs what the config schema describes

class TenantRunner {
  public:
    // Call before any socket is bound or thread started: forks the helper when the server
    // will drop root.
    static Expected<std::unique_ptr<TenantRunner>> prepare(const Config& config);
    ~TenantRunner();  // stops following, takes the sockets back, reaps the helper
    TenantRunner(const TenantRunner&) = delete;
    TenantRunner& operator=(const TenantRunner&) = delete;

    // Once the server runs: namespaces' sockets start reaching its workers, and their NTS-KE
    // listeners the key establishment (when NTS is on).
    Status start(server::NtpServer& ntp, server::NtsKeService* key_establishment);
    void reconcile() const;  // SIGHUP
    // A reload: the namespace patterns, addresses and router settings of `config` apply from
    // now on (sockets of addresses still configured stay open).
    Status reconfigure(const Config& config);
    void log_status() const;  // SIGUSR1
    std::vector<server::TenantNetworkStatus> status() const;
    server::TenantMetrics metrics() const;
    // Readable when the privileged helper has gone away (-1 without a helper): nothing
    // follows namespaces any more, and the daemon must not go on half-working.
    int helper_lost_fd() const { return receiver_ ? receiver_->lost_fd() : -1; }
    // Reaps the lost helper; how it ended ("killed by signal 9 (Killed)").
    std::string helper_end();

  private:
    explicit TenantRunner(server::TenantNetworkOptions options) : options_(std::move(options)) {}

    server::TenantNetworkOptions options_;
    std::size_t max_series_ = 0;  // metrics.max_tenant_series
    std::optional<pid_t> helper_;
    sys::UniqueFd channel_;
    std::unique_ptr<server::TenantRegistry> registry_;
    std::unique_ptr<server::TenantNetworks> tenants_;          // in-process
    std::unique_ptr<server::TenantChannelReceiver> receiver_;  // from the helper
};

}  // namespace cloudtime::daemon
