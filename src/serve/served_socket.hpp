// SPDX-License-Identifier: Apache-2.0
// A socket a worker serves, and the commands that hand sockets to a running worker and take
// them back (tenant networks come and go while the server runs).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/udp_socket.hpp"
#include "proto/access_list.hpp"
#include "proto/rate_limiter.hpp"
#include "proto/server_decision.hpp"
#include "serve/counters.hpp"
#include "serve/stamped_replies.hpp"
#include "sys/fd.hpp"
#include "sys/wakeup.hpp"
#include "util/expected.hpp"

namespace cloudtime::server {

// Counters of one tenant network. Each of its sockets is served by one worker, the only
// writer of that socket's share: relaxed load+store, summed by readers.
struct TenantCounters {
    std::atomic<std::uint64_t> received{0};
    std::atomic<std::uint64_t> answered{0};
};

struct ServedSocket {
    sys::UdpSocket socket;
    std::shared_ptr<TenantCounters> tenant;  // null for the sockets of server.listen
    // A server.listen socket's share of its address's counters (its worker is the only
    // writer); null for tenant sockets.
    std::shared_ptr<WorkerCounters> address;
    // Its replies waiting for their kernel transmit stamp (interleaved mode); made for the
    // first one, so that sockets no interleaved client asks cost nothing.
    std::unique_ptr<StampedReplies> stamped;
};

// What workers decide with: the access list and the rate limiter (shared by every worker,
// lock-free inside) that `rules` points into. A reload hands workers a new set; each keeps
// the one it has until then, so the hot path reads no shared pointer.
struct RulesSet {
    proto::AccessList access;
    std::shared_ptr<proto::RateLimiter> limiter;  // kept across a reload that does not change it
    // The records of replies for interleaved mode (null: off); kept across a reload too.
    std::shared_ptr<proto::InterleavedTable> interleaved;
    // The NTS cookie master keys in force (null: NTS off); replaced at each rotation.
    std::shared_ptr<const proto::CookieKeyring> nts_keys;
    proto::ServerRules rules;
};

// The control channel of one worker: commands queued under a mutex by the control thread, an
// wake-up (eventfd) for the worker. The worker takes them between batches; the hot path never
// touches the mutex.
class WorkerInbox {
  public:
    static Expected<std::unique_ptr<WorkerInbox>> create();
    int fd() const { return wakeup_.fd(); }

    void add(std::unique_ptr<ServedSocket> socket);
    void remove(const ServedSocket* socket);  // the worker closes it
    void set_rules(std::shared_ptr<const RulesSet> rules);

    struct Commands {
        std::vector<std::unique_ptr<ServedSocket>> added;
        std::vector<const ServedSocket*> removed;
        std::shared_ptr<const RulesSet> rules;  // null: unchanged
        std::uint64_t sequence = 0;             // of the last command in it
    };
    Commands take();  // worker side: drains the eventfd and the queue
    // Worker side: every command up to `sequence` is in effect.
    void applied(std::uint64_t sequence) {
        if (sequence != 0) {  // 0: woken with nothing to take
            applied_.store(sequence, std::memory_order_release);
        }
    }
    // Control side: waits until the worker applied every command given so far (false after
    // `timeout_ms`: a worker stuck in a long batch).
    bool wait_applied(int timeout_ms) const;

  private:
    explicit WorkerInbox(sys::Wakeup wakeup) : wakeup_(std::move(wakeup)) {}

    sys::Wakeup wakeup_;
    mutable std::mutex mutex_;
    Commands pending_;
    std::uint64_t given_ = 0;  // commands given so far (under mutex_)
    std::atomic<std::uint64_t> applied_{0};
};

}  // namespace cloudtime::server
