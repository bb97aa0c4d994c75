#include "server/worker.hpp"

#include <poll.h>

#include "proto/packet.hpp"
#include "server/served_time.hpp"
#include "sys/datagram_batch.hpp"

namespace cloudtime::server {

namespace {
// Large enough for any request we would answer; anything bigger is dropped as oversized.
constexpr std::size_t kReceiveBuffer = 2048;
// Batches taken from one socket before looking at the others, for fairness.
constexpr int kBatchesPerTurn = 4;

// xorshift64*: cheap, per worker, good enough to pick which limited requests leak.
class FastRandom {
  public:
    explicit FastRandom(std::uint64_t seed) : state_(seed | 1U) {}
    std::uint64_t next() {
        state_ ^= state_ >> 12U;
        state_ ^= state_ << 25U;
        state_ ^= state_ >> 27U;
        return state_ * 0x2545'F491'4F6C'DD1DULL;
    }

  private:
    std::uint64_t state_;
};

proto::SourceKey source_key(const sys::SocketAddress& peer, std::uint8_t ipv6_prefix) {
    if (const auto v4 = peer.ipv4()) {
        return proto::source_key_v4(*v4);
    }
    const auto octets = peer.mapped_octets();
    return proto::source_key_v6(octets, ipv6_prefix);
}

void serve_socket(const sys::UdpSocket& socket, sys::DatagramBatch& batch, const WorkerContext& ctx,
                  FastRandom& random) {
    for (int turn = 0; turn < kBatchesPerTurn; ++turn) {
        if (batch.receive(socket) != sys::IoStatus::ok) {
            return;
        }
        const proto::ClockSnapshot clock = ctx.clock->load();
        const ServedTime served(clock.smear);
        WorkerCounters& counters = *ctx.counters;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            counters.count_received();
            const sys::Datagram& datagram = batch.datagram(i);
            if (datagram.truncated) {
                counters.count_oversized();
                continue;
            }
            const proto::AccessAction access =
                ctx.access != nullptr ? ctx.access->check(datagram.peer.mapped_octets())
                                      : proto::AccessAction::allow;
            if (access == proto::AccessAction::ignore) {
                counters.count_dropped(proto::DropReason::ignored);
                continue;
            }
            const proto::Decision decision =
                proto::decide(batch.payload(i), served.receive(datagram.kernel_receive), clock,
                              ctx.policy, batch.next_reply());
            if (const auto* drop = std::get_if<proto::Drop>(&decision)) {
                counters.count_dropped(drop->reason);
                continue;
            }
            // Denied sources are rate limited like every other: a KoD DENY is still a reply.
            const proto::RateVerdict verdict =
                ctx.limiter != nullptr
                    ? ctx.limiter->check(source_key(datagram.peer, ctx.ipv6_prefix),
                                         datagram.kernel_receive, random.next())
                    : proto::RateVerdict::allow;
            if (verdict == proto::RateVerdict::drop) {
                counters.count_dropped(proto::DropReason::rate_limited);
                continue;
            }
            if (access == proto::AccessAction::deny) {
                proto::make_kiss_of_death(batch.next_reply(), proto::kKissDeny);
                counters.count_deny();
            } else if (verdict == proto::RateVerdict::kod) {
                proto::make_kiss_of_death(batch.next_reply(), proto::kKissRate);
                counters.count_kod();
            } else if (verdict == proto::RateVerdict::leak) {
                counters.count_leaked();
            }
            batch.commit_reply(i, std::get<proto::Reply>(decision).length);
        }
        if (batch.replies() == 0) {
            continue;
        }
        // The transmit timestamp is the last thing written, right before the send.
        const proto::UnixTime transmit = served.transmit();
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
    FastRandom random(ctx.random_seed);
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
                serve_socket(ctx.sockets[i], batch, ctx, random);
            }
        }
    }
}

}  // namespace cloudtime::server
