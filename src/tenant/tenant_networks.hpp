// SPDX-License-Identifier: Apache-2.0
// NTP in every tenant network: follows the network namespaces Neutron creates (ovnmeta-*,
// qdhcp-* under /run/netns), opens a socket on the metadata addresses found inside each, and
// hands it to a TenantSink (the workers, directly or through the privileged helper's channel);
// releases them when the namespace goes. One dedicated thread enters namespaces (setns is per
// thread); workers never do.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "net/netns.hpp"
#include "net/socket_address.hpp"
#include "net/udp_socket.hpp"
#include "sys/directory_watch.hpp"
#include "sys/fd.hpp"
#include "sys/wakeup.hpp"
#include "tenant/router_redirect.hpp"
#include "tenant/tenant_registry.hpp"
#include "util/expected.hpp"

namespace cloudtime::server {

struct TenantNetworkOptions {
    std::string netns_dir = "/run/netns";
    std::vector<std::string> patterns = {"ovnmeta-*", "qdhcp-*"};
    std::vector<sys::SocketAddress> addresses;  // each with the port to serve (123)
    // Added by cloudtimed (as /32 or /128) on the interface holding one of `addresses`, served
    // like them, and removed again when the namespace is released (169.254.169.123).
    std::vector<sys::SocketAddress> managed;
    // Router namespaces (ML2/OVS qrouter-*): served through an nftables redirect instead.
    std::vector<std::string> router_patterns;
    RouterRedirect router;
    int receive_buffer = 0;
    // NTS key establishment listened for on this TCP port beside each NTP socket (0: none).
    std::uint16_t nts_ke_port = 0;

    friend bool operator==(const TenantNetworkOptions&, const TenantNetworkOptions&) = default;
};

// Managed addresses cloudtimed added in a namespace, each with its interface index.
using AddedAddresses = std::vector<std::pair<sys::SocketAddress, unsigned>>;

// Whether namespace `name` matches one of `patterns` (fnmatch, a leading dot matched only
// explicitly).
bool matches_any(const std::vector<std::string>& patterns, const std::string& name);

class TenantNetworks {
  public:
    static Expected<std::unique_ptr<TenantNetworks>> start(TenantNetworkOptions options,
                                                           TenantSink& sink);
    ~TenantNetworks();  // stops the thread and releases every namespace
    TenantNetworks(const TenantNetworks&) = delete;
    TenantNetworks& operator=(const TenantNetworks&) = delete;

    void reconcile();  // list the directory again (SIGHUP)
    // A reload: the follower thread applies `options` (see apply_options) and lists again.
    void reconfigure(TenantNetworkOptions options);

  private:
    struct Bound {
        sys::SocketAddress address;  // with its port
        std::string label;           // as the sink knows it
    };
    struct Attached {
        std::vector<Bound> bound;
        std::vector<std::string> missing;
        AddedAddresses added;
        sys::UniqueFd address_events;  // rtnetlink, opened inside the namespace
        // false: the namespace could not be entered yet (between `ip netns add` creating
        // the file and mounting the namespace on it); tried again shortly
        bool entered = false;
        bool redirected = false;  // a router namespace holding our nftables table
    };

    TenantNetworks(TenantNetworkOptions options, TenantSink& sink, sys::Wakeup wakeup);
    void run();
    // The namespaces the watch saw come and go, attached or detached; false when the watch
    // failed (the directory is then listed again).
    bool follow_changes(sys::DirectoryWatch& watch);
    void retry_unentered();  // namespaces that could not be entered yet
    bool followed(const std::string& name) const;
    void reconcile_now();
    // On the follower thread: namespaces no longer followed, or whose directory, receive
    // buffer or router redirect changed, are released under the old options; the others keep
    // their sockets, losing only those of addresses no longer configured (and managed
    // addresses no longer configured); what is new is then attached.
    void apply_options(TenantNetworkOptions next);
    void drop_unconfigured(const std::string& name, Attached& entry);
    std::optional<TenantNetworkOptions> take_pending();
    // What attaching a namespace opened inside it (labels are made there: a link-local
    // address's scope is named by its interface there, not by whatever holds that index in
    // our own namespace), and what it could not.
    struct Opened {
        sys::UdpSocket socket;
        std::string label;
        sys::UniqueFd ke_listener;  // NTS-KE beside it, when asked for and possible
    };
    struct Opening {
        std::vector<Opened> opened;
        std::vector<std::string> ke_problems;
        std::vector<std::string> missing;
    };
    void attach(const std::string& name);
    std::vector<sys::SocketAddress> unbound(const Attached& entry) const;
    // Inside the namespace at `path`: its leftovers reclaimed and its address events opened
    // the first time, the managed addresses added, a socket for each address in `wanted`.
    Opening open_inside(const std::string& name, const std::string& path, Attached& entry,
                        const std::vector<sys::SocketAddress>& wanted);
    void open_one(const sys::SocketAddress& address, Opening& into) const;
    // Back in our own namespace: the sockets to the sink, and the log line.
    void hand_over(const std::string& name, Attached& entry, Opening opening);
    void attach_router(const std::string& name, const std::string& path);
    void detach(const std::string& name);
    // What the namespace still misses (nothing: served whole), told to the sink on a change.
    void set_missing(const std::string& name, Attached& entry, std::vector<std::string> missing);

    TenantNetworkOptions options_;
    TenantSink& sink_;
    sys::Wakeup wakeup_;  // a reconcile was asked for, or the follower is stopping
    std::atomic<bool> stopping_{false};
    std::atomic<bool> reconcile_requested_{false};
    std::mutex pending_mutex_;
    std::optional<TenantNetworkOptions> pending_;  // from reconfigure(), for the thread
    std::map<std::string, Attached> attached_;     // only the follower thread touches it
    std::thread thread_;
};

}  // namespace cloudtime::server
