// SPDX-License-Identifier: Apache-2.0
// The privileged tenant-network helper and the unprivileged server, talking over a
// SOCK_SEQPACKET channel: the helper follows namespaces and sends each socket it binds
// (SCM_RIGHTS) with its namespace and address; the server only ever receives ready sockets.
//
// The messages are server/tenant_messages.hpp's. Either side closing the channel ends the
// helper.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "sys/fd.hpp"
#include "sys/wakeup.hpp"
#include "tenant/tenant_networks.hpp"
#include "tenant/tenant_registry.hpp"

namespace cloudtime::server {

// The helper process's whole life: follow namespaces, send sockets, until the channel closes.
int run_tenant_helper(TenantNetworkOptions options, sys::UniqueFd channel);

// Server side: a thread that feeds what the helper sends into `sink`.
class TenantChannelReceiver {
  public:
    static Expected<std::unique_ptr<TenantChannelReceiver>> start(sys::UniqueFd channel,
                                                                  TenantSink& sink);
    ~TenantChannelReceiver();  // closes the channel (the helper then exits) and joins
    TenantChannelReceiver(const TenantChannelReceiver&) = delete;
    TenantChannelReceiver& operator=(const TenantChannelReceiver&) = delete;

    void reconcile() const;  // asks the helper to list its namespaces again
    // A reload: the helper follows with `options` from now on.
    Status reconfigure(const TenantNetworkOptions& options) const;
    // Readable once the helper closed the channel or it failed while this receiver still
    // runs: the helper is gone, and no namespace will be attached or released any more.
    int lost_fd() const { return lost_.fd(); }

  private:
    TenantChannelReceiver(sys::UniqueFd channel, TenantSink& sink, sys::Wakeup lost)
        : channel_(std::move(channel)), sink_(sink), lost_(std::move(lost)) {}
    void run();

    sys::UniqueFd channel_;
    TenantSink& sink_;
    sys::Wakeup lost_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

}  // namespace cloudtime::server
