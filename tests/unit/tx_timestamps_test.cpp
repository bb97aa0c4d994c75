// SPDX-License-Identifier: Apache-2.0
// Kernel transmit stamps on a real loopback socket, and how a socket's stamped replies are
// matched to them (server/stamped_replies).

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <thread>
#include <vector>

#include "net/datagram_batch.hpp"
#include "net/tx_timestamps.hpp"
#include "net/udp_socket.hpp"
#include "proto/access_list.hpp"
#include "serve/send_delay.hpp"
#include "serve/stamped_replies.hpp"
#include "sys/clock.hpp"

namespace cloudtime {
namespace {

sys::SocketAddress loopback() {
    return sys::parse_socket_address("127.0.0.1:0").value();
}

// Stamps read from the socket's error queue, waiting a little for them.
std::vector<sys::TransmitStamp> read_stamps(const sys::UdpSocket& socket, std::size_t wanted) {
    sys::TransmitStampReader reader(8);
    std::vector<sys::TransmitStamp> stamps;
    for (int tries = 0; tries < 100 && stamps.size() < wanted; ++tries) {
        if (reader.read(socket.fd(), stamps) == 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    return stamps;
}

class TransmitStamps : public ::testing::Test {
  protected:
    void SetUp() override {
        auto s = sys::UdpSocket::bind(loopback(), {.transmit_timestamps = true});
        ASSERT_TRUE(s) << s.error();
        server.emplace(std::move(s).value());
        auto c = sys::UdpSocket::bind(loopback(), {});
        ASSERT_TRUE(c) << c.error();
        client.emplace(std::move(c).value());
    }

    // The client sends `n` requests; the server answers each, asking for stamps of those in
    // `stamped`; returns the times read before the send and after it.
    std::pair<proto::UnixTime, proto::UnixTime> answer(std::size_t n,
                                                       const std::vector<bool>& stamped) {
        for (std::size_t i = 0; i < n; ++i) {
            send_request();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        sys::DatagramBatch batch(16, 2048);
        EXPECT_EQ(batch.receive(*server), sys::IoStatus::ok);
        EXPECT_EQ(batch.size(), n);
        for (std::size_t i = 0; i < batch.size(); ++i) {
            batch.next_reply()[0] = 0x24;
            batch.commit_reply(i, 48, stamped[i]);
        }
        const proto::UnixTime before = sys::realtime_now();
        EXPECT_EQ(batch.send(*server), n);
        return {before, sys::realtime_now()};
    }

    void send_request() {
        sys::Datagram to;
        to.peer = server->local_address();
        const std::array<std::uint8_t, 48> request{0x23};
        EXPECT_EQ(client->send_to(request, to), sys::IoStatus::ok);
    }

    std::optional<sys::UdpSocket> server;
    std::optional<sys::UdpSocket> client;
};

TEST_F(TransmitStamps, OnlyRepliesThatAskAreStampedNumberedInOrder) {
    const auto [before, after] = answer(4, {true, false, true, true});
    const auto stamps = read_stamps(*server, 3);
    ASSERT_EQ(stamps.size(), 3U);
    for (std::size_t i = 0; i < stamps.size(); ++i) {
        EXPECT_EQ(stamps[i].key, i);  // the unstamped reply took no number
        EXPECT_GE(stamps[i].time, before);
        EXPECT_LE(stamps[i].time, sys::realtime_now());
    }
    EXPECT_LE(stamps[0].time, stamps[2].time);
    // Nothing else is queued, and the replies themselves arrived.
    sys::TransmitStampReader reader(8);
    std::vector<sys::TransmitStamp> more;
    EXPECT_EQ(reader.read(server->fd(), more), 0U);
}

TEST_F(TransmitStamps, NumberingRestarts) {
    answer(2, {true, true});
    ASSERT_EQ(read_stamps(*server, 2).size(), 2U);
    ASSERT_TRUE(sys::restart_stamp_keys(server->fd()));
    answer(1, {true});
    const auto stamps = read_stamps(*server, 1);
    ASSERT_EQ(stamps.size(), 1U);
    EXPECT_EQ(stamps[0].key, 0U);
}

TEST_F(TransmitStamps, ReceiveTimestampsStillCome) {
    send_request();
    std::array<std::uint8_t, 64> buffer{};
    sys::Datagram datagram;
    for (int tries = 0; tries < 100; ++tries) {
        if (server->receive(buffer, datagram) == sys::IoStatus::ok) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_TRUE(datagram.kernel_timestamp);
    EXPECT_EQ(datagram.size, 48U);
}

// --- matching ---------------------------------------------------------------------------

const proto::Address16 kClient = proto::ipv4_mapped(0xC000'0205U);
constexpr proto::NtpTimestamp kReceive{0xEB00'0000'1234'0000ULL};
const proto::UnixTime kSent{1'790'000'000'000'000'000};

TEST(StampedReplies, AStampRefinesItsReplysRecordAndMeasuresTheSend) {
    proto::InterleavedTable table(64, 1);
    server::StampedReplies waiting;
    table.remember(kReceive, kClient, proto::to_ntp(kSent));
    waiting.sent(kReceive, kClient, kSent, 0);
    const proto::UnixTime kernel{kSent.ns + 4'000};
    const auto arrival = waiting.arrived({0, kernel}, &table);
    EXPECT_TRUE(arrival.matched);
    EXPECT_TRUE(arrival.refined);
    EXPECT_EQ(arrival.position, 0U);
    EXPECT_EQ(arrival.delay_ns, 4'000);
    const auto record = table.find(kReceive, kClient);
    EXPECT_EQ(record->transmit, proto::to_ntp(kernel));
    EXPECT_EQ(record->source, proto::TransmitSource::kernel);
    EXPECT_FALSE(waiting.arrived({0, kernel}, &table).matched);  // once
}

TEST(StampedReplies, AStampWithoutARecordOnlyMeasures) {
    server::StampedReplies waiting;
    waiting.sent({}, kClient, kSent, 12);
    const auto arrival = waiting.arrived({0, proto::UnixTime{kSent.ns + 2'500}}, nullptr);
    EXPECT_TRUE(arrival.matched);
    EXPECT_FALSE(arrival.refined);
    EXPECT_EQ(arrival.position, 12U);  // the 13th of a sendmmsg
    EXPECT_EQ(arrival.delay_ns, 2'500);
}

TEST(StampedReplies, StampsThatCannotBeTheReplysAreNotTrusted) {
    proto::InterleavedTable table(64, 1);
    server::StampedReplies waiting;
    table.remember(kReceive, kClient, proto::to_ntp(kSent));
    waiting.sent(kReceive, kClient, kSent, 0);
    EXPECT_FALSE(waiting.arrived({1, proto::UnixTime{kSent.ns + 1000}}, &table).matched);
    EXPECT_FALSE(waiting.arrived({0, proto::UnixTime{kSent.ns - 1}}, &table).matched);
    waiting.sent(kReceive, kClient, kSent, 0);
    EXPECT_FALSE(
        waiting
            .arrived({1, proto::UnixTime{kSent.ns + server::StampedReplies::kMaxStampDelayNs + 1}},
                     &table)
            .matched);
    EXPECT_EQ(table.find(kReceive, kClient)->source, proto::TransmitSource::daemon);
}

TEST(SendDelay, TheMedianOfTheLastSamplesOnceThereAreEnough) {
    server::SendDelay delay;
    for (std::size_t i = 0; i + 1 < server::RunningMedian::kMinSamples; ++i) {
        delay.add(3'000, 0);
    }
    EXPECT_EQ(delay.estimate_ns(0), 0);  // too few to trust
    delay.add(3'000, 0);
    EXPECT_EQ(delay.estimate_ns(0), 3'000);
    // A preempted send (a long outlier) does not move it; a lasting change does.
    delay.add(900'000, 0);
    EXPECT_EQ(delay.estimate_ns(0), 3'000);
    for (std::size_t i = 0; i < server::RunningMedian::kWindow; ++i) {
        delay.add(5'000, 0);
    }
    EXPECT_EQ(delay.estimate_ns(0), 5'000);
}

TEST(SendDelay, EachReplyBeforeItInASendmmsgAddsItsCost) {
    server::SendDelay delay;
    delay.add(3'000 + 31 * 700, 31);  // not counted before the base is known
    for (std::size_t i = 0; i < server::RunningMedian::kMinSamples; ++i) {
        delay.add(3'000, 0);
    }
    EXPECT_EQ(delay.estimate_ns(10), 3'000);
    for (std::size_t i = 0; i < server::RunningMedian::kMinSamples; ++i) {
        delay.add(3'000 + 31 * 700, 31);  // the last of 32: 700 ns per reply before it
    }
    EXPECT_EQ(delay.estimate_ns(0), 3'000);
    EXPECT_EQ(delay.estimate_ns(10), 3'000 + 10 * 700);
}

}  // namespace
}  // namespace cloudtime
