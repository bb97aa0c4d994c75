// SPDX-License-Identifier: Apache-2.0
// Where tenant-network sockets end up: the serving side's record of every attached namespace,
// its sockets in the workers and its counters. Fed by the namespace follower, in this process
// or, through TenantChannelReceiver, from the privileged helper.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/udp_socket.hpp"
#include "nts/nts_ke_service.hpp"
#include "serve/ntp_server.hpp"
#include "serve/served_socket.hpp"

namespace cloudtime::server {

// What the namespace follower reports. Both calls come from one thread.
class TenantSink {
  public:
    virtual ~TenantSink() = default;
    // A socket bound inside namespace `ns`; `label` is its ADDR:PORT as named in there.
    virtual void attached(const std::string& ns, const std::string& label,
                          sys::UdpSocket socket) = 0;
    // A listening TCP socket for NTS key establishment beside the NTP socket `label`; it
    // closes with that socket.
    virtual void attached_ke(const std::string& ns, const std::string& label,
                             sys::UniqueFd listener) = 0;
    // The namespace is gone: close every socket of it.
    virtual void released(const std::string& ns) = 0;
    // One socket of the namespace, as `attached` labelled it, is no longer served (a reload
    // removed its address): close it.
    virtual void closed(const std::string& ns, const std::string& label) = 0;
    // What the namespace still misses to be served whole (not enterable yet, a metadata
    // address absent, a redirect that failed); "" once nothing is.
    virtual void waiting(const std::string& ns, const std::string& what) = 0;
};

struct TenantNetworkStatus {
    std::string name;
    std::vector<std::string> addresses;  // ADDR:PORT served
    std::size_t nts_ke_listeners = 0;    // NTS-KE served beside them
    std::uint64_t received = 0;
    std::uint64_t answered = 0;
};

// The counters metrics show, with bounded cardinality: namespaces given a series of their own
// when they were attached (up to a maximum), and everything else summed in `other` — the
// namespaces beyond the maximum and every released one — so that each series only grows.
struct TenantMetrics {
    struct Series {
        std::string name;
        std::uint64_t received = 0;
        std::uint64_t answered = 0;
    };
    std::vector<Series> own;
    std::uint64_t other_received = 0;
    std::uint64_t other_answered = 0;
    std::size_t namespaces = 0;  // served now
    std::size_t sockets = 0;
    std::size_t waiting = 0;  // followed and missing something
    std::size_t routers = 0;  // served through a redirect
};

class TenantRegistry final : public TenantSink {
  public:
    // `key_establishment`: where NTS-KE listeners go (none: they are closed at once).
    explicit TenantRegistry(NtpServer& server, std::size_t max_series = 0,
                            NtsKeService* key_establishment = nullptr)
        : server_(server), key_establishment_(key_establishment), max_series_(max_series) {}
    ~TenantRegistry() override;  // takes every socket back from the workers

    void attached(const std::string& ns, const std::string& label, sys::UdpSocket socket) override;
    void attached_ke(const std::string& ns, const std::string& label,
                     sys::UniqueFd listener) override;
    void released(const std::string& ns) override;
    void closed(const std::string& ns, const std::string& label) override;
    void waiting(const std::string& ns, const std::string& what) override;
    std::vector<TenantNetworkStatus> status() const;
    // `is_router`: whether a namespace is a router's (served through a redirect).
    TenantMetrics metrics(const std::function<bool(const std::string&)>& is_router) const;
    // Namespaces attached from now on get a series of their own while fewer than `max` have.
    void set_max_series(std::size_t max);

  private:
    struct Entry {
        std::vector<std::string> labels;
        std::vector<const ServedSocket*> sockets;
        std::vector<std::pair<std::string, sys::TlsListenerId>> ke_listeners;  // by NTP label
        std::shared_ptr<TenantCounters> counters = std::make_shared<TenantCounters>();
        bool own_series = false;
    };
    void close_ke(Entry& entry, const std::string* label);  // all, or that label's

    NtpServer& server_;
    NtsKeService* key_establishment_;
    mutable std::mutex mutex_;
    std::map<std::string, Entry> entries_;
    std::map<std::string, std::string> waiting_;  // namespace -> what it misses
    std::size_t max_series_;
    std::size_t own_series_ = 0;
    std::uint64_t released_received_ = 0;
    std::uint64_t released_answered_ = 0;
};

}  // namespace cloudtime::server
