// SPDX-License-Identifier: Apache-2.0
// One serving thread over a loopback socket handed to it as the NTP server hands sockets: what
// it answers, what it drops, what the rate limiter makes of a source over its rate, and what
// it counts; a socket taken back is closed.
#include "serve/worker.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <optional>
#include <thread>

#include "proto/client_sample.hpp"
#include "proto/packet.hpp"
#include "sys/clock.hpp"
#include "sys/poller.hpp"
#include "sys/wakeup.hpp"

namespace cloudtime::server {
namespace {

std::shared_ptr<const RulesSet> rules_with(const std::optional<proto::RateLimitPolicy>& limit) {
    auto set = std::make_shared<RulesSet>();
    if (limit) {
        set->limiter = std::make_shared<proto::RateLimiter>(*limit, 1, sys::realtime_now());
    }
    set->rules = {.policy = {},
                  .access = nullptr,
                  .limiter = set->limiter.get(),
                  .ipv6_prefix = 64,
                  .interleaved = nullptr};
    return set;
}

proto::ClockSnapshot synchronized() {
    proto::ClockSnapshot s;
    s.synchronized = true;
    s.stratum = 3;
    s.refid = 0xC000'0201U;
    s.reference_time = sys::realtime_now();
    s.dispersion_epoch = s.reference_time;
    return s;
}

// A worker thread serving one loopback socket, and a client connected to it.
class RunningWorker {
  public:
    explicit RunningWorker(std::shared_ptr<const RulesSet> rules,
                           const proto::ClockSnapshot& clock = synchronized())
        : inbox_(WorkerInbox::create().value()), stop_(sys::Wakeup::create().value()) {
        cell_.publish(clock);
        auto server = sys::UdpSocket::bind(sys::parse_socket_address("127.0.0.1:0").value(), {});
        EXPECT_TRUE(server) << server.error();
        client_.emplace(sys::UdpSocket::connect(server->local_address()).value());
        auto served = std::make_unique<ServedSocket>(
            ServedSocket{std::move(server).value(), nullptr, nullptr, nullptr});
        socket_ = served.get();
        inbox_->add(std::move(served));
        const WorkerContext context{.inbox = inbox_.get(),
                                    .stop_fd = stop_.fd(),
                                    .clock = &cell_,
                                    .rules = std::move(rules),
                                    .counters = &counters_,
                                    .batch_size = 8,
                                    .random_seed = 1};
        thread_ = std::thread([context] { run_worker(context); });
        EXPECT_TRUE(inbox_->wait_applied(2000));
    }
    ~RunningWorker() {
        stop_.signal();
        thread_.join();
    }
    RunningWorker(const RunningWorker&) = delete;
    RunningWorker& operator=(const RunningWorker&) = delete;

    void send(std::span<const std::uint8_t> packet) {
        ASSERT_EQ(client_->send(packet), sys::IoStatus::ok);
    }
    // The next reply within `timeout_ms`, if one comes.
    std::optional<proto::Header> reply(int timeout_ms = 1000) {
        if (!sys::wait_readable(client_->fd(), timeout_ms)) {
            return std::nullopt;
        }
        std::array<std::uint8_t, 2048> buffer{};
        sys::Datagram datagram;
        if (client_->receive(buffer, datagram) != sys::IoStatus::ok) {
            return std::nullopt;
        }
        return proto::decode_header(std::span(buffer).first(datagram.size));
    }
    CounterTotals totals() const {
        CounterTotals t;
        counters_.add_to(t);
        return t;
    }
    // The counters once `settled` says they are (a batch's tally is added after its send:
    // a reply can reach the client first), or as they are after a second.
    template <typename Settled>
    CounterTotals totals_when(Settled settled) const {
        for (int i = 0; i < 100 && !settled(totals()); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return totals();
    }
    void take_back() {
        inbox_->remove(socket_);
        EXPECT_TRUE(inbox_->wait_applied(2000));
    }

  private:
    WorkerCounters counters_;
    SnapshotCell cell_;
    std::thread thread_;
    std::unique_ptr<WorkerInbox> inbox_;
    std::optional<sys::UdpSocket> client_;
    const ServedSocket* socket_ = nullptr;
    sys::Wakeup stop_;
};

TEST(Worker, AnswersARequestDropsWhatIsNoneAndCountsEach) {
    RunningWorker w(rules_with(std::nullopt));
    const auto request = proto::make_client_request(0x0123'4567'89AB'CDEFULL);
    w.send(request);
    const auto reply = w.reply();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->mode, proto::Mode::server);
    EXPECT_EQ(reply->stratum, 3);  // the snapshot's, served as it is
    EXPECT_EQ(reply->origin, proto::NtpTimestamp{0x0123'4567'89AB'CDEFULL});
    EXPECT_FALSE(reply->transmit.is_zero());

    auto control = request;
    control[0] = 0x26;  // mode 6: never answered
    w.send(control);
    EXPECT_FALSE(w.reply(300));
    const CounterTotals t =
        w.totals_when([](const CounterTotals& c) { return c.answered + c.dropped_total() == 2; });
    EXPECT_EQ(t.received, 2U);
    EXPECT_EQ(t.answered, 1U);
    EXPECT_EQ(t.dropped_total(), 1U);
}

TEST(Worker, ASourceOverItsRateGetsAKissOfDeathAndItIsCounted) {
    // One request, then every one a KoD: no leak to speak of (1 in 2^16), a KoD for each.
    RunningWorker w(rules_with(proto::RateLimitPolicy{.enabled = true,
                                                      .interval_s = 3600,
                                                      .burst = 1,
                                                      .leak = 16,
                                                      .kod = 0,
                                                      .table_entries = 64,
                                                      .ipv6_prefix = 64}));
    w.send(proto::make_client_request(1));
    const auto first = w.reply();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->stratum, 3);
    w.send(proto::make_client_request(2));
    const auto kiss = w.reply();
    ASSERT_TRUE(kiss);
    EXPECT_EQ(kiss->stratum, 0);
    EXPECT_EQ(kiss->refid, proto::kKissRate);
    EXPECT_EQ(kiss->leap, proto::Leap::unsynchronized);
    const CounterTotals t = w.totals_when([](const CounterTotals& c) { return c.answered == 2; });
    EXPECT_EQ(t.answered, 2U);  // a KoD is a reply
    EXPECT_EQ(t.kod_sent, 1U);
}

TEST(Worker, AnUnsynchronizedClockIsServedAsSuch) {
    RunningWorker w(rules_with(std::nullopt), proto::ClockSnapshot{});
    w.send(proto::make_client_request(3));
    const auto reply = w.reply();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->leap, proto::Leap::unsynchronized);
    EXPECT_EQ(reply->stratum, 0);
}

TEST(Worker, ASocketTakenBackIsClosedAndAnswersNoMore) {
    RunningWorker w(rules_with(std::nullopt));
    w.take_back();
    w.send(proto::make_client_request(4));
    EXPECT_FALSE(w.reply(300));
    EXPECT_EQ(w.totals().received, 0U);
}

}  // namespace
}  // namespace cloudtime::server
