#include "server/worker.hpp"

#include <poll.h>

#include <array>

#include "proto/packet.hpp"
#include "sys/clock.hpp"

namespace cloudtime::server {

namespace {
// Large enough for any request we would answer; anything bigger is dropped as oversized.
constexpr std::size_t kReceiveBuffer = 2048;
// Datagrams taken from one socket before looking at the others, for fairness.
constexpr int kDrainLimit = 64;

void serve_socket(const sys::UdpSocket& socket, const WorkerContext& ctx) {
    std::array<std::uint8_t, kReceiveBuffer> request{};
    std::array<std::uint8_t, proto::kHeaderSize> reply{};
    sys::Datagram datagram;
    for (int i = 0; i < kDrainLimit; ++i) {
        if (socket.receive(request, datagram) != sys::IoStatus::ok) {
            return;
        }
        ctx.counters->count_received();
        if (datagram.truncated) {
            ctx.counters->count_oversized();
            continue;
        }
        const proto::ClockSnapshot clock = ctx.clock->load();
        const proto::Decision decision =
            proto::decide(std::span(request).first(datagram.size), datagram.kernel_receive, clock,
                          ctx.policy, reply);
        if (const auto* drop = std::get_if<proto::Drop>(&decision)) {
            ctx.counters->count_dropped(drop->reason);
            continue;
        }
        const std::size_t length = std::get<proto::Reply>(decision).length;
        // The transmit timestamp is the last thing written before the send.
        proto::stamp_transmit(reply, sys::realtime_now());
        if (socket.send_to(std::span(reply).first(length), datagram) == sys::IoStatus::ok) {
            ctx.counters->count_answered();
        } else {
            ctx.counters->count_send_error();
        }
    }
}
}  // namespace

void run_worker(const WorkerContext& ctx) {
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
                serve_socket(ctx.sockets[i], ctx);
            }
        }
    }
}

}  // namespace cloudtime::server
