// SPDX-License-Identifier: Apache-2.0
// A worker's transmit side over loopback: each reply carries a transmit time read for itself
// right before its send, and a reply to an interleaved client leaves a record that the
// kernel's transmit stamp then refines.
#include "serve/reply_transmit.hpp"

#include <gtest/gtest.h>

#include <array>

#include "proto/packet.hpp"
#include "sys/clock.hpp"
#include "sys/poller.hpp"

namespace cloudtime::server {
namespace {

constexpr std::size_t kBatch = 4;

struct Loopback {
    ServedSocket served;
    sys::UdpSocket client;
};

Loopback loopback() {
    auto server = sys::UdpSocket::bind(sys::parse_socket_address("127.0.0.1:0").value(),
                                       {.reuse_port = false,
                                        .nonblocking = true,
                                        .receive_buffer = 0,
                                        .transmit_timestamps = true});
    EXPECT_TRUE(server) << server.error();
    auto client = sys::UdpSocket::connect(server->local_address());
    EXPECT_TRUE(client) << client.error();
    return {ServedSocket{std::move(server).value(), nullptr, nullptr, nullptr},
            std::move(client).value()};
}

// The client's request, received by the server into `batch`.
void request(Loopback& l, sys::DatagramBatch& batch) {
    std::array<std::uint8_t, proto::kHeaderSize> packet{};
    packet[0] = 0x23;  // version 4, client
    ASSERT_EQ(l.client.send(packet), sys::IoStatus::ok);
    ASSERT_TRUE(sys::wait_readable(l.served.socket.fd(), 1000));
    ASSERT_EQ(batch.receive(l.served.socket), sys::IoStatus::ok);
    ASSERT_EQ(batch.size(), 1U);
}

// The transmit time of the reply the client gets.
proto::UnixTime reply_transmit(const Loopback& l, proto::UnixTime pivot) {
    EXPECT_TRUE(sys::wait_readable(l.client.fd(), 1000));
    std::array<std::uint8_t, 2048> buffer{};
    sys::Datagram datagram;
    EXPECT_EQ(l.client.receive(buffer, datagram), sys::IoStatus::ok);
    const auto header = proto::decode_header(std::span(buffer).first(datagram.size));
    EXPECT_TRUE(header);
    return header ? proto::to_unix(header->transmit, pivot) : proto::UnixTime{};
}

// Writes a server header as the reply to datagram 0 and says how it is to be sent.
void answer(sys::DatagramBatch& batch, ReplyTransmitter& transmitter, const SentReply& sent) {
    auto reply = batch.next_reply();
    std::fill(reply.begin(), reply.begin() + proto::kHeaderSize, std::uint8_t{0});
    reply[0] = 0x24;  // version 4, server
    transmitter.next_slot(batch).sent = sent;
    batch.commit_reply(0, proto::kHeaderSize, sent.stamp);
}

TEST(ReplyTransmitter, ABasicReplyCarriesTheTimeReadRightBeforeItsSend) {
    Loopback l = loopback();
    sys::DatagramBatch batch(kBatch, 2048);
    ReplyTransmitter transmitter(kBatch);
    request(l, batch);
    answer(batch, transmitter, SentReply{});
    const proto::UnixTime before = sys::realtime_now();
    const Transmitted sent =
        transmitter.send(l.served, batch, ServedTime(proto::SmearWindow{}), nullptr);
    const proto::UnixTime after = sys::realtime_now();
    EXPECT_EQ(sent.sent, 1U);
    const proto::UnixTime transmit = reply_transmit(l, before);
    // No send delay measured yet: the reading itself, to the nanosecond's rounding.
    EXPECT_GE(transmit.ns, before.ns - 1);
    EXPECT_LE(transmit.ns, after.ns);
}

TEST(ReplyTransmitter, AnInterleavedClientsReplyIsRecordedAndRefinedByTheKernelsStamp) {
    Loopback l = loopback();
    sys::DatagramBatch batch(kBatch, 2048);
    ReplyTransmitter transmitter(kBatch);
    proto::InterleavedTable records(64, 1);
    request(l, batch);
    const proto::NtpTimestamp receive{0x1234'5678'9ABC'DEF0ULL};
    const proto::Address16 client = batch.datagram(0).peer.mapped_octets();
    answer(batch, transmitter,
           SentReply{.receive = receive,
                     .client = client,
                     .interleaved = false,
                     .stamp = true,
                     .transmit = {},
                     .seal_ns = 0});
    const proto::UnixTime before = sys::realtime_now();
    const Transmitted sent =
        transmitter.send(l.served, batch, ServedTime(proto::SmearWindow{}), &records);
    EXPECT_EQ(sent.sent, 1U);
    const proto::UnixTime daemon_transmit = reply_transmit(l, before);

    const auto record = records.find(receive, client);
    ASSERT_TRUE(record);
    // The kernel's stamp, read now if the send did not find it waiting already.
    std::uint64_t refined = sent.kernel_tx_stamps;
    for (int i = 0; i < 100 && refined == 0; ++i) {
        sys::wait_readable(l.served.socket.fd(), 10);
        refined += transmitter.collect(l.served, &records);
    }
    EXPECT_EQ(refined, 1U);
    const auto stamped = records.find(receive, client);
    ASSERT_TRUE(stamped);
    EXPECT_EQ(stamped->source, proto::TransmitSource::kernel);
    // The kernel stamped the reply after the daemon read the time it carries (and not a
    // second later: a stamp of something else would be).
    const proto::UnixTime kernel = proto::to_unix(stamped->transmit, before);
    EXPECT_GE(kernel.ns, daemon_transmit.ns);
    EXPECT_LT(kernel.ns - daemon_transmit.ns, 1'000'000'000);
    // Another client with the same receive timestamp has no record.
    proto::Address16 other = client;
    other[15] ^= 1U;
    EXPECT_FALSE(records.find(receive, other));
}

}  // namespace
}  // namespace cloudtime::server
