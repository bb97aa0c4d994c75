// SPDX-License-Identifier: Apache-2.0
// Interleaved mode (RFC 9769) in the pure protocol: the shared record of replies, and how
// proto::handle answers a client that names one of them.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "proto/access_list.hpp"
#include "proto/interleaved_table.hpp"
#include "proto/packet.hpp"
#include "proto/server_decision.hpp"
#include "test_packets.hpp"

namespace cloudtime::proto {
namespace {

const Address16 kAlice = ipv4_mapped(0xC000'0205U);  // 192.0.2.5
const Address16 kMallory = ipv4_mapped(0xC000'0266U);
constexpr NtpTimestamp kReceive{0xEB00'0000'1234'5678ULL};
constexpr NtpTimestamp kDaemonTx{0xEB00'0000'1234'9999ULL};
constexpr NtpTimestamp kKernelTx{0xEB00'0000'1234'AAAAULL};

TEST(InterleavedTable, FindsWhatWasRememberedForTheSameClientOnly) {
    InterleavedTable table(1024, 42);
    table.remember(kReceive, kAlice, kDaemonTx);
    const auto found = table.find(kReceive, kAlice);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->transmit, kDaemonTx);
    EXPECT_EQ(found->source, TransmitSource::daemon);
    // Another source naming Alice's exchange learns nothing.
    EXPECT_FALSE(table.find(kReceive, kMallory));
    EXPECT_FALSE(table.find(NtpTimestamp{kReceive.raw + 1}, kAlice));
    EXPECT_FALSE(table.find(NtpTimestamp{}, kAlice));
}

TEST(InterleavedTable, RefinedByTheKernelStampOfTheSameReplyOnly) {
    InterleavedTable table(1024, 42);
    table.remember(kReceive, kAlice, kDaemonTx);
    EXPECT_FALSE(table.refine(kReceive, kMallory, {kKernelTx, TransmitSource::kernel}));
    EXPECT_FALSE(
        table.refine(NtpTimestamp{kReceive.raw + 1}, kAlice, {kKernelTx, TransmitSource::kernel}));
    EXPECT_EQ(table.find(kReceive, kAlice)->transmit, kDaemonTx);
    EXPECT_TRUE(table.refine(kReceive, kAlice, {kKernelTx, TransmitSource::kernel}));
    const auto found = table.find(kReceive, kAlice);
    EXPECT_EQ(found->transmit, kKernelTx);
    EXPECT_EQ(found->source, TransmitSource::kernel);
}

TEST(InterleavedTable, MemoryIsFixedWhateverTheNumberOfClients) {
    InterleavedTable table(4096, 7);
    const std::size_t bytes = table.memory_bytes();
    EXPECT_EQ(table.entries(), 4096U);
    EXPECT_EQ(bytes, 4096U * 24U);
    // A million sources, a reply each: the oldest records give way, nothing grows.
    for (std::uint32_t i = 0; i < 1'000'000; ++i) {
        table.remember(NtpTimestamp{0xEB00'0000'0000'0000ULL + (std::uint64_t{i} << 8U)},
                       ipv4_mapped(0x0A00'0000U + i), kDaemonTx);
    }
    EXPECT_EQ(table.memory_bytes(), bytes);
    // The newest ones are there, the first ones are gone.
    const std::uint32_t last = 999'999;
    EXPECT_TRUE(table.find(NtpTimestamp{0xEB00'0000'0000'0000ULL + (std::uint64_t{last} << 8U)},
                           ipv4_mapped(0x0A00'0000U + last)));
    EXPECT_FALSE(table.find(NtpTimestamp{0xEB00'0000'0000'0000ULL}, ipv4_mapped(0x0A00'0000U)));
}

TEST(InterleavedTable, KeepsMostRecordsOfAFullSet) {
    // 4-way sets: a client's record survives until four newer ones land in its set.
    InterleavedTable table(65536, 99);
    std::size_t kept = 0;
    constexpr std::uint32_t kClients = 10'000;
    for (std::uint32_t i = 0; i < kClients; ++i) {
        table.remember(NtpTimestamp{0xEB00'0001'0000'0000ULL + i * 977ULL},
                       ipv4_mapped(0x0A00'0000U + i), kDaemonTx);
    }
    for (std::uint32_t i = 0; i < kClients; ++i) {
        kept += table.find(NtpTimestamp{0xEB00'0001'0000'0000ULL + i * 977ULL},
                           ipv4_mapped(0x0A00'0000U + i))
                    ? 1U
                    : 0U;
    }
    EXPECT_GT(kept, kClients * 99 / 100);
}

TEST(InterleavedTable, ReadersNeverSeeATornRecord) {
    // Writers on two threads put records whose transmit time is derived from the receive
    // time; a reader that finds one must find the matching transmit time.
    InterleavedTable table(16, 3);  // small: the same ways are rewritten all the time
    std::atomic<bool> stop{false};
    auto writer = [&](std::uint64_t offset) {
        for (std::uint64_t i = 1; !stop.load(std::memory_order_relaxed); ++i) {
            const std::uint64_t r = (((i % 5000) + 1) << 1U) | offset;
            table.remember(NtpTimestamp{r}, kAlice, NtpTimestamp{~r});
        }
    };
    std::thread a(writer, 0);
    std::thread b(writer, 1);
    std::uint64_t hits = 0;
    for (std::uint64_t n = 0; n < 2'000'000; ++n) {
        const std::uint64_t r = (n % 10000) + 2;
        if (const auto found = table.find(NtpTimestamp{r}, kAlice)) {
            ASSERT_EQ(found->transmit.raw, ~r);
            ++hits;
        }
    }
    stop = true;
    a.join();
    b.join();
    EXPECT_GT(hits, 0U);  // the reader did meet the writers
}

// --- the decision ---------------------------------------------------------------------

ClockSnapshot synced_clock(UnixTime now) {
    ClockSnapshot c;
    c.synchronized = true;
    c.stratum = 2;
    c.refid = 0xC000'0201U;
    c.dispersion_epoch = now;
    c.reference_time = now;
    return c;
}

std::vector<std::uint8_t> request_with(std::uint64_t origin, std::uint64_t receive,
                                       std::uint64_t transmit) {
    auto r = test::client_request(4, 3, transmit);
    store_u64(std::span(r).subspan(kOriginOffset, 8), origin);
    store_u64(std::span(r).subspan(kReceiveOffset, 8), receive);
    return r;
}

struct Exchange {
    Decision decision;
    Header header;
};

Exchange exchange(const ServerRules& rules, const Address16& from, UnixTime at,
                  const std::vector<std::uint8_t>& request) {
    std::array<std::uint8_t, kHeaderSize> reply{};
    const Arrival arrival{.source = from, .kernel_receive = at, .served_receive = at};
    Exchange e{handle(rules, arrival, request, synced_clock(at), 0, reply), {}};
    e.header = *decode_header(reply);
    return e;
}

ServerRules rules_with(const InterleavedTable& table) {
    ServerRules r;
    r.interleaved = &table;
    return r;
}

class InterleavedDecision : public ::testing::Test {
  protected:
    InterleavedTable table{1024, 5};
    ServerRules rules = rules_with(table);
    const UnixTime first{1'790'000'000'000'000'000};
    const UnixTime second{1'790'000'001'000'000'000};
    const std::uint64_t client_rx = 0xEB00'0000'5555'0000ULL;  // the client's receive of reply 1
    const std::uint64_t client_tx = 0xEB00'0001'6666'0000ULL;
};

TEST_F(InterleavedDecision, AClientNamingItsPreviousExchangeGetsItsTransmitTime) {
    const Exchange one = exchange(rules, kAlice, first, test::client_request(4, 3, 0x1111));
    ASSERT_TRUE(std::get<Reply>(one.decision).length == kHeaderSize);
    EXPECT_FALSE(std::get<Reply>(one.decision).interleaved);
    EXPECT_FALSE(std::get<Reply>(one.decision).record);  // a basic request: no record
    // The worker records the reply with the transmit time it sent, then the kernel's stamp.
    table.remember(one.header.receive, kAlice, kDaemonTx);
    table.refine(one.header.receive, kAlice, {kKernelTx, TransmitSource::kernel});

    const Exchange two =
        exchange(rules, kAlice, second, request_with(one.header.receive.raw, client_rx, client_tx));
    const auto& reply = std::get<Reply>(two.decision);
    EXPECT_TRUE(reply.interleaved);
    EXPECT_TRUE(reply.record);  // the next request names this one
    EXPECT_EQ(reply.transmit_source, TransmitSource::kernel);
    EXPECT_EQ(two.header.origin.raw, client_rx);  // the client's receive field, echoed
    EXPECT_EQ(two.header.receive, to_ntp(second));
    EXPECT_EQ(two.header.transmit, kKernelTx);  // reply 1's exact transmit time
    EXPECT_EQ(two.header.mode, Mode::server);
}

TEST_F(InterleavedDecision, BasicForEveryoneElse) {
    const Exchange one = exchange(rules, kAlice, first, test::client_request(4, 3, 0x1111));
    table.remember(one.header.receive, kAlice, kDaemonTx);
    const std::uint64_t named = one.header.receive.raw;
    struct Case {
        const char* name;
        Address16 from;
        std::vector<std::uint8_t> request;
    };
    const std::vector<Case> cases{
        {"another source naming Alice's exchange", kMallory,
         request_with(named, client_rx, client_tx)},
        {"an exchange never made", kAlice, request_with(named + 1, client_rx, client_tx)},
        {"origin zero (a basic client)", kAlice, request_with(0, 0, client_tx)},
        {"origin equal to receive", kAlice, request_with(named, named, client_tx)},
        {"origin equal to transmit", kAlice, request_with(named, client_rx, named)},
    };
    for (const Case& c : cases) {
        const Exchange e = exchange(rules, c.from, second, c.request);
        const auto& reply = std::get<Reply>(e.decision);
        EXPECT_FALSE(reply.interleaved) << c.name;
        // Only a request that looks interleaved earns its reply a record.
        EXPECT_EQ(reply.record,
                  c.from == kMallory || std::string(c.name) == "an exchange never made")
            << c.name;
        // Basic mode: origin is the request's transmit timestamp, bit for bit.
        EXPECT_EQ(e.header.origin.raw, load_u64(std::span(c.request).subspan(kTransmitOffset, 8)))
            << c.name;
    }
}

TEST_F(InterleavedDecision, AKissOfDeathIsNeverInterleaved) {
    const Exchange one = exchange(rules, kAlice, first, test::client_request(4, 3, 0x1111));
    table.remember(one.header.receive, kAlice, kDaemonTx);
    const AccessList deny({}, AccessAction::deny);
    ServerRules denying = rules;
    denying.access = &deny;
    const auto request = request_with(one.header.receive.raw, client_rx, client_tx);
    const Exchange e = exchange(denying, kAlice, second, request);
    ASSERT_TRUE(std::holds_alternative<KissOfDeath>(e.decision));
    EXPECT_EQ(e.header.origin.raw, client_tx);
}

TEST_F(InterleavedDecision, OffWithoutATable) {
    const Exchange one = exchange(rules, kAlice, first, test::client_request(4, 3, 0x1111));
    table.remember(one.header.receive, kAlice, kDaemonTx);
    const ServerRules basic{};
    const Exchange e =
        exchange(basic, kAlice, second, request_with(one.header.receive.raw, client_rx, client_tx));
    EXPECT_FALSE(std::get<Reply>(e.decision).interleaved);
    EXPECT_EQ(e.header.origin.raw, client_tx);
}

}  // namespace
}  // namespace cloudtime::proto
