#include "server/worker.hpp"

#include <poll.h>

#include "proto/packet.hpp"
#include "sys/clock.hpp"
#include "sys/datagram_batch.hpp"

namespace cloudtime::server {

namespace {
// Large enough for any request we would answer; anything bigger is dropped as oversized.
constexpr std::size_t kReceiveBuffer = 2048;
// Batches taken from one socket before looking at the others, for fairness.
constexpr int kBatchesPerTurn = 4;

void serve_socket(const sys::UdpSocket& socket, sys::DatagramBatch& batch,
                  const WorkerContext& ctx) {
    for (int turn = 0; turn < kBatchesPerTurn; ++turn) {
        if (batch.receive(socket) != sys::IoStatus::ok) {
            return;
        }
        const proto::ClockSnapshot clock = ctx.clock->load();
        WorkerCounters& counters = *ctx.counters;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            counters.count_received();
            const sys::Datagram& datagram = batch.datagram(i);
            if (datagram.truncated) {
                counters.count_oversized();
                continue;
            }
            const proto::Decision decision = proto::decide(
                batch.payload(i), datagram.kernel_receive, clock, ctx.policy, batch.next_reply());
            if (const auto* drop = std::get_if<proto::Drop>(&decision)) {
                counters.count_dropped(drop->reason);
                continue;
            }
            batch.commit_reply(i, std::get<proto::Reply>(decision).length);
        }
        if (batch.replies() == 0) {
            continue;
        }
        // The transmit timestamp is the last thing written, right before the send.
        const proto::UnixTime transmit = sys::realtime_now();
        for (std::size_t r = 0; r < batch.replies(); ++r) {
            proto::stamp_transmit(batch.reply(r), transmit);
        }
        const std::size_t sent = batch.send(socket);
        counters.count_answered(sent);
        counters.count_send_errors(batch.replies() - sent);
        if (batch.size() < batch.capacity()) {
            return;  // the socket is drained
        }
    }
}
}  // namespace

void run_worker(const WorkerContext& ctx) {
    sys::DatagramBatch batch(ctx.batch_size, kReceiveBuffer);
    std::vector<pollfd> fds;
    fds.reserve(ctx.sockets.size() + 1);
    for (const auto& s : ctx.sockets) {
        fds.push_back({s.fd(), POLLIN, 0});
    }
    fds.push_back({ctx.stop_fd, POLLIN, 0});
    for (;;) {
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            continue;  // EINTR
        }
        if ((fds.back().revents & POLLIN) != 0) {
            return;
        }
        for (std::size_t i = 0; i < ctx.sockets.size(); ++i) {
            if ((fds[i].revents & (POLLIN | POLLERR)) != 0) {
                serve_socket(ctx.sockets[i], batch, ctx);
            }
        }
    }
}

}  // namespace cloudtime::server
