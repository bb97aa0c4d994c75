// One serving thread: waits on its sockets (epoll), decides on each datagram, answers; takes
// sockets from its inbox and gives them back between batches.
#pragma once

#include <span>
#include <vector>

#include "proto/access_list.hpp"
#include "proto/rate_limiter.hpp"
#include "proto/server_decision.hpp"
#include "server/counters.hpp"
#include "server/served_socket.hpp"
#include "server/snapshot_cell.hpp"
#include "sys/udp_socket.hpp"

namespace cloudtime::server {

struct WorkerContext {
    std::vector<ServedSocket*> sockets;  // this worker's sockets of server.listen
    WorkerInbox* inbox = nullptr;        // sockets handed over and taken back while running
    int stop_fd = -1;                    // readable when the server stops
    const SnapshotCell* clock = nullptr;
    proto::ServerPolicy policy;
    WorkerCounters* counters = nullptr;
    std::size_t batch_size = 32;                // datagrams per recvmmsg/sendmmsg
    proto::RateLimiter* limiter = nullptr;      // shared by all workers; null: no limiting
    const proto::AccessList* access = nullptr;  // null: every source allowed
    std::uint8_t ipv6_prefix = 64;              // the limiter's unit for IPv6 sources
    std::uint64_t random_seed = 1;              // for the limiter's leak and KoD choices
};

void run_worker(const WorkerContext& context);

}  // namespace cloudtime::server
