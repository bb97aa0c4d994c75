// SPDX-License-Identifier: Apache-2.0
// The NTP service: sockets on every listen address for every worker, and the workers.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "net/socket_address.hpp"
#include "net/udp_socket.hpp"
#include "proto/access_list.hpp"
#include "proto/rate_limiter.hpp"
#include "proto/server_decision.hpp"
#include "serve/counters.hpp"
#include "serve/served_socket.hpp"
#include "serve/snapshot_cell.hpp"
#include "sys/fd.hpp"
#include "sys/wakeup.hpp"
#include "util/expected.hpp"

namespace cloudtime::server {

struct ServerOptions {
    std::vector<sys::SocketAddress> listen;
    unsigned threads = 0;         // 0: one per core
    std::size_t batch_size = 32;  // datagrams per recvmmsg/sendmmsg
    int receive_buffer = 0;       // SO_RCVBUF bytes per socket; 0: the kernel's default
    proto::ServerPolicy policy;
    proto::RateLimitPolicy rate_limit;
    proto::AccessList access;
    // Records for interleaved mode; 0: basic mode only.
    std::size_t interleaved_records = 65536;
};

class NtpServer {
  public:
    // Binds every socket (so that errors surface before anything serves); does not start.
    static Expected<std::unique_ptr<NtpServer>> bind(const ServerOptions& options,
                                                     const SnapshotCell& clock);
    ~NtpServer();
    NtpServer(const NtpServer&) = delete;
    NtpServer& operator=(const NtpServer&) = delete;

    void start();
    void stop();

    // A new config while serving: binds the listen addresses that are new (any error leaves
    // everything as it was), closes those no longer listed, and hands every worker the new
    // access list and rate limits (the limiter's table is kept when its settings are the
    // same). Returns once every worker serves with them. Threads, batch size and receive
    // buffer stay as started.
    Status update(const ServerOptions& options);
    // The NTS cookie master keys the workers check and make cookies with from now on (null:
    // NTS off, requests with NTS fields answered as plain NTP). From the control thread.
    void set_nts_keys(std::shared_ptr<const proto::CookieKeyring> keys);

    // Hands a socket opened elsewhere (a tenant network's) to a running worker, chosen in
    // turn; the handle takes it back with detach(), which closes it. Called from one thread.
    const ServedSocket* attach(sys::UdpSocket socket, std::shared_ptr<TenantCounters> counters);
    void detach(const ServedSocket* socket);

    // The listen addresses as configured (port 0 as given), in the order bound.
    std::vector<sys::SocketAddress> configured_addresses() const;
    // The addresses actually bound (port 0 resolved), one per configured address.
    const std::vector<sys::SocketAddress>& bound_addresses() const { return bound_; }
    unsigned thread_count() const { return static_cast<unsigned>(inboxes_.size()); }
    // The receive buffer the kernel granted each socket, in bytes.
    int receive_buffer() const { return receive_buffer_granted_; }
    CounterTotals totals() const;
    // The measured delay of a reply sent alone, from reading the clock to the kernel's
    // transmit stamp (server/send_delay.hpp): the largest of the workers'; 0 before any.
    std::int64_t send_delay_ns() const { return largest_gauge(&WorkerCounters::send_delay_ns); }
    // What an NTS seal adds to it (the authenticator is made after the transmit time is
    // read): the largest of the workers'; 0 before any.
    std::int64_t nts_seal_ns() const { return largest_gauge(&WorkerCounters::nts_seal_ns); }
    // Each server.listen address's own counters (tenant networks are not in them).
    struct AddressTotals {
        sys::SocketAddress address;
        CounterTotals totals;
    };
    std::vector<AddressTotals> address_totals() const;
    // Memory held by the rate limiter's table (0 when limiting is off).
    std::size_t rate_limit_table_bytes() const {
        return rules_->limiter ? rules_->limiter->memory_bytes() : 0;
    }
    std::size_t interleaved_records() const {
        return rules_->interleaved ? rules_->interleaved->entries() : 0;
    }
    std::size_t interleaved_table_bytes() const {
        return rules_->interleaved ? rules_->interleaved->memory_bytes() : 0;
    }

  private:
    std::int64_t largest_gauge(std::int64_t (WorkerCounters::*gauge)() const) const;

    // One listen address: a socket per worker (SO_REUSEPORT), index = worker.
    struct Listener {
        sys::SocketAddress configured;  // as in server.listen (maybe port 0)
        sys::SocketAddress bound;
        std::vector<const ServedSocket*> sockets;
        std::vector<std::shared_ptr<WorkerCounters>> counters;  // one per socket
    };

    explicit NtpServer(const SnapshotCell& clock) : clock_(clock) {}
    // Binds `address` for every worker; the sockets go to the workers' inboxes.
    Status add_listener(const sys::SocketAddress& address);
    std::shared_ptr<const RulesSet> make_rules(const ServerOptions& options) const;

    const SnapshotCell& clock_;
    std::size_t batch_size_ = 32;
    int receive_buffer_ = 0;          // asked for
    int receive_buffer_granted_ = 0;  // what the kernel gave the first socket
    std::shared_ptr<const RulesSet> rules_;
    std::optional<ServerOptions> options_;  // the last applied: rules are made again from them
    std::shared_ptr<const proto::CookieKeyring> nts_keys_;
    std::optional<sys::Wakeup> stop_;  // signalled once: every worker returns
    std::vector<Listener> listeners_;
    std::vector<sys::SocketAddress> bound_;
    std::vector<std::unique_ptr<WorkerInbox>> inboxes_;
    std::map<const ServedSocket*, std::size_t> attached_;  // which worker holds each
    std::size_t next_worker_ = 0;
    std::unique_ptr<WorkerCounters[]> counters_;
    std::vector<std::jthread> threads_;
};

}  // namespace cloudtime::server
