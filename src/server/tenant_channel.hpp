// The privileged tenant-network helper and the unprivileged server, talking over a
// SOCK_SEQPACKET channel: the helper follows namespaces and sends each socket it binds
// (SCM_RIGHTS) with its namespace and address; the server only ever receives ready sockets.
//
// Messages: "A\t<namespace>\t<ADDR:PORT>" + fd (attached), "R\t<namespace>" (released), and
// from the server "reconcile" (SIGHUP). Either side closing the channel ends the helper.
#pragma once

#include <memory>
#include <thread>

#include "server/tenant_networks.hpp"
#include "server/tenant_registry.hpp"
#include "sys/fd.hpp"

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

  private:
    TenantChannelReceiver(sys::UniqueFd channel, TenantSink& sink)
        : channel_(std::move(channel)), sink_(sink) {}
    void run();

    sys::UniqueFd channel_;
    TenantSink& sink_;
    std::thread thread_;
};

}  // namespace cloudtime::server
