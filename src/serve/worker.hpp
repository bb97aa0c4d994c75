// SPDX-License-Identifier: Apache-2.0
// One serving thread: waits on its sockets (epoll), hands each datagram to proto::handle, sends
// what it decided and counts; takes sockets from its inbox and gives them back between batches.
// It moves bytes and counts; every decision about a datagram is proto's.
#pragma once

#include <span>
#include <vector>

#include "net/udp_socket.hpp"
#include "proto/server_decision.hpp"
#include "serve/counters.hpp"
#include "serve/served_socket.hpp"
#include "serve/snapshot_cell.hpp"

namespace cloudtime::server {

struct WorkerContext {
    // Sockets (of server.listen and tenant networks) handed over and taken back while
    // running, and new rules on a reload.
    WorkerInbox* inbox = nullptr;
    int stop_fd = -1;  // readable when the server stops
    const SnapshotCell* clock = nullptr;
    // Access list, versions, the rate limiter shared by all workers; replaced on a reload.
    std::shared_ptr<const RulesSet> rules;
    WorkerCounters* counters = nullptr;
    std::size_t batch_size = 32;    // datagrams per recvmmsg/sendmmsg
    std::uint64_t random_seed = 1;  // for the limiter's leak and KoD choices
};

void run_worker(const WorkerContext& context);

}  // namespace cloudtime::server
