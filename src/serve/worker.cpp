// SPDX-License-Identifier: Apache-2.0
#include "serve/worker.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

#include "net/datagram_batch.hpp"
#include "proto/packet.hpp"
#include "serve/reply_transmit.hpp"
#include "serve/served_time.hpp"
#include "sys/poller.hpp"

namespace cloudtime::server {

namespace {
// Large enough for any request we would answer; anything bigger is dropped as oversized.
constexpr std::size_t kReceiveBuffer = proto::kMaxRequestLength;
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

// A batch's counts go to the worker's block and, for a server.listen socket, to its address's
// too: one writer each, no read-modify-write.
void add_counts(const WorkerContext& ctx, const ServedSocket& socket, const CounterTotals& tally) {
    ctx.counters->add(tally);
    if (socket.address) {
        socket.address->add(tally);
    }
}

void count_received(const WorkerContext& ctx, const ServedSocket& socket, std::size_t n) {
    ctx.counters->count_received(n);
    if (socket.address) {
        socket.address->count_received(n);
    }
}

// What the datagrams of one batch share while each is decided.
struct BatchScope {
    sys::DatagramBatch& batch;
    ReplyTransmitter& transmitter;
    const RulesSet& rules_set;
    const proto::ClockSnapshot& clock;
    const ServedTime& served;
    proto::InterleavedTable* records;  // null: none made (off, or a leap being smeared)
    FastRandom& random;
    CounterTotals& tally;
};

// An answer to an authentic NTS request (a reply, a RATE or a DENY) gets its cookies now,
// before the transmit time, and is sealed right after it. False: it cannot be, and goes
// unanswered.
bool authenticate(const BatchScope& s, std::size_t i, const proto::NtsCheck& check,
                  ReplySlot& slot) {
    if (check.kind != proto::NtsCheck::Kind::authentic) {
        return true;
    }
    if (!s.transmitter.nts().prepare(slot.nts, check, *s.rules_set.nts_keys,
                                     s.batch.payload(i).size())) {
        s.tally.count_dropped(proto::DropReason::bad_nts);
        return false;
    }
    ++s.tally.nts;
    return true;
}

// Datagram i of the batch: decided, and its reply (if any) written as the batch's next.
void decide(const BatchScope& s, std::size_t i) {
    const sys::Datagram& datagram = s.batch.datagram(i);
    if (datagram.truncated) {
        ++s.tally.oversized;
        return;
    }
    const proto::ServerRules& rules = s.rules_set.rules;
    const proto::Arrival arrival{
        .source = datagram.peer.mapped_octets(),
        .kernel_receive = datagram.kernel_receive,
        .served_receive = s.served.receive(datagram.kernel_receive),
    };
    // Only the limiter uses randomness: without one, the draw is not made.
    const std::uint64_t draw = rules.limiter != nullptr ? s.random.next() : 0;
    const proto::Decision decision =
        proto::handle(rules, arrival, s.batch.payload(i), s.clock, draw, s.batch.next_reply(),
                      s.transmitter.nts().verifier(s.rules_set.nts_keys.get()));
    ReplySlot& slot = s.transmitter.next_slot(s.batch);
    if (const auto* drop = std::get_if<proto::Drop>(&decision)) {
        s.tally.count_dropped(drop->reason);
        return;
    }
    if (const auto* kiss = std::get_if<proto::KissOfDeath>(&decision)) {
        if (!authenticate(s, i, kiss->nts, slot)) {
            return;
        }
        s.tally.count_kiss(kiss->code);
        slot.sent = SentReply{};
        s.batch.commit_reply(i, kiss->length);
        return;
    }
    const auto& reply = std::get<proto::Reply>(decision);
    if (!authenticate(s, i, reply.nts, slot)) {
        return;
    }
    if (reply.leaked) {
        ++s.tally.leaked;
    }
    if (reply.interleaved) {
        s.tally.count_interleaved(reply.transmit_source);
    }
    // An interleaved client's next request will want this reply's exact transmit time: a
    // record, and the kernel's stamp. Now and then a basic reply's stamp measures the send's
    // delay (not while a leap is smeared: the reading is then not the system clock the kernel
    // stamps with).
    const bool record = s.records != nullptr && reply.record;
    const bool stamp =
        record || (!s.clock.smear.active &&
                   s.transmitter.calibrate(i, s.batch.size(), datagram.kernel_receive));
    slot.sent = SentReply{
        .receive = record ? proto::receive_of(s.batch.next_reply().first<proto::kHeaderSize>())
                          : proto::NtpTimestamp{},
        .client = arrival.source,
        .interleaved = reply.interleaved,
        .stamp = stamp,
        .transmit = {}};
    s.batch.commit_reply(i, reply.length, stamp);
}

// The batch's replies sent, and what the send did counted.
void send_replies(const BatchScope& s, ServedSocket& served_socket, const WorkerContext& ctx) {
    const Transmitted sent = s.transmitter.send(served_socket, s.batch, s.served, s.records);
    if (served_socket.tenant) {
        add_relaxed(served_socket.tenant->answered, sent.sent);
    }
    s.tally.answered += sent.sent;
    s.tally.send_errors += s.batch.replies() - sent.sent;
    s.tally.kernel_tx_stamps += sent.kernel_tx_stamps;
    ctx.counters->set_send_delay(s.transmitter.send_delay_ns());
    ctx.counters->set_nts_seal(s.transmitter.nts_seal_ns());
}

void serve_socket(ServedSocket& served_socket, sys::DatagramBatch& batch,
                  ReplyTransmitter& transmitter, const WorkerContext& ctx,
                  const RulesSet& rules_set, FastRandom& random) {
    for (int turn = 0; turn < kBatchesPerTurn; ++turn) {
        if (batch.receive(served_socket.socket) != sys::IoStatus::ok) {
            if (turn == 0) {
                // Woken with nothing to read: the error queue holds transmit stamps.
                CounterTotals tally;
                tally.kernel_tx_stamps =
                    transmitter.collect(served_socket, rules_set.interleaved.get());
                add_counts(ctx, served_socket, tally);
            }
            return;
        }
        if (served_socket.tenant) {
            add_relaxed(served_socket.tenant->received, batch.size());
        }
        const proto::ClockSnapshot clock = ctx.clock->load();
        const ServedTime served(clock.smear);
        count_received(ctx, served_socket, batch.size());
        CounterTotals tally;
        // No records while a leap is smeared: those clients get basic mode.
        const BatchScope scope{
            .batch = batch,
            .transmitter = transmitter,
            .rules_set = rules_set,
            .clock = clock,
            .served = served,
            .records = clock.smear.active ? nullptr : rules_set.interleaved.get(),
            .random = random,
            .tally = tally};
        for (std::size_t i = 0; i < batch.size(); ++i) {
            decide(scope, i);
        }
        if (batch.replies() != 0) {
            send_replies(scope, served_socket, ctx);
        }
        add_counts(ctx, served_socket, tally);
        if (batch.size() < batch.capacity()) {
            return;  // the socket is drained
        }
    }
}

// Tags of the two control fds in the epoll set; sockets are tagged with their ServedSocket.
char stop_tag;
char inbox_tag;

// Sockets handed over while running: watched from now on; sockets taken back: closed; new
// rules: used from the next batch on.
void apply(WorkerInbox::Commands commands, sys::EpollSet& epoll,
           std::vector<std::unique_ptr<ServedSocket>>& owned,
           std::shared_ptr<const RulesSet>& rules) {
    if (commands.rules) {
        rules = std::move(commands.rules);
    }
    for (auto& added : commands.added) {
        if (auto watched = epoll.add(added->socket.fd(), added.get()); !watched) {
            spdlog::error("worker cannot watch a new socket: {}", watched.error());
            continue;
        }
        owned.push_back(std::move(added));
    }
    for (const ServedSocket* removed : commands.removed) {
        const auto it = std::find_if(owned.begin(), owned.end(),
                                     [&](const auto& s) { return s.get() == removed; });
        if (it != owned.end()) {
            epoll.remove((*it)->socket.fd());
            owned.erase(it);  // closes the socket
        }
    }
}
}  // namespace

void run_worker(const WorkerContext& ctx) {
    sys::DatagramBatch batch(ctx.batch_size, kReceiveBuffer);
    ReplyTransmitter transmitter(ctx.batch_size);
    FastRandom random(ctx.random_seed);
    auto epoll = sys::EpollSet::create();
    Status watching = epoll ? epoll->add(ctx.stop_fd, &stop_tag) : epoll.failure();
    if (watching) {
        watching = epoll->add(ctx.inbox->fd(), &inbox_tag);
    }
    if (!watching) {
        spdlog::critical("worker cannot start: {}", watching.error());
        return;
    }
    std::shared_ptr<const RulesSet> rules = ctx.rules;
    std::vector<std::unique_ptr<ServedSocket>> owned;
    std::array<void*, 64> ready{};
    for (;;) {
        const std::size_t n = epoll->wait(ready);
        bool stop = false;
        bool inbox = false;
        for (std::size_t i = 0; i < n; ++i) {
            void* tag = ready[i];
            if (tag == &stop_tag) {
                stop = true;
            } else if (tag == &inbox_tag) {
                inbox = true;
            } else {
                serve_socket(*static_cast<ServedSocket*>(tag), batch, transmitter, ctx, *rules,
                             random);
            }
        }
        if (stop) {
            return;
        }
        // After serving this round's events: none of them may point at a socket removed now.
        if (inbox) {
            WorkerInbox::Commands commands = ctx.inbox->take();
            const std::uint64_t sequence = commands.sequence;
            apply(std::move(commands), *epoll, owned, rules);
            ctx.inbox->applied(sequence);
        }
    }
}

}  // namespace cloudtime::server
