// Where tenant-network sockets end up: the serving side's record of every attached namespace,
// its sockets in the workers and its counters. Fed by the namespace follower, in this process
// or, through TenantChannelReceiver, from the privileged helper.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/ntp_server.hpp"
#include "server/served_socket.hpp"
#include "sys/udp_socket.hpp"

namespace cloudtime::server {

// What the namespace follower reports. Both calls come from one thread.
class TenantSink {
  public:
    virtual ~TenantSink() = default;
    // A socket bound inside namespace `ns`; `label` is its ADDR:PORT as named in there.
    virtual void attached(const std::string& ns, const std::string& label,
                          sys::UdpSocket socket) = 0;
    // The namespace is gone: close every socket of it.
    virtual void released(const std::string& ns) = 0;
    // One socket of the namespace, as `attached` labelled it, is no longer served (a reload
    // removed its address): close it.
    virtual void closed(const std::string& ns, const std::string& label) = 0;
};

struct TenantNetworkStatus {
    std::string name;
    std::vector<std::string> addresses;  // ADDR:PORT served
    std::uint64_t received = 0;
    std::uint64_t answered = 0;
};

class TenantRegistry final : public TenantSink {
  public:
    explicit TenantRegistry(NtpServer& server) : server_(server) {}
    ~TenantRegistry() override;  // takes every socket back from the workers

    void attached(const std::string& ns, const std::string& label, sys::UdpSocket socket) override;
    void released(const std::string& ns) override;
    void closed(const std::string& ns, const std::string& label) override;
    std::vector<TenantNetworkStatus> status() const;

  private:
    struct Entry {
        std::vector<std::string> labels;
        std::vector<const ServedSocket*> sockets;
        std::shared_ptr<TenantCounters> counters = std::make_shared<TenantCounters>();
    };
    NtpServer& server_;
    mutable std::mutex mutex_;
    std::map<std::string, Entry> entries_;
};

}  // namespace cloudtime::server
