// SPDX-License-Identifier: Apache-2.0
// The facts a VM's gatherer prints on its console, read back and judged on a host: the record's
// lines among a console's noise, a garbled or incomplete record, chronyc's CSV as chrony's
// structures, NTP exchanges as samples, and the verdicts they lead to.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "check/chronyc_csv.hpp"
#include "check/console_facts.hpp"
#include "proto/packet.hpp"
#include "proto/timestamp.hpp"
#include "util/base64.hpp"

namespace cloudtime::check {
namespace {

using nlohmann::json;

std::string base64(const std::string& in) {
    static const char* alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const auto n = (std::uint32_t(std::uint8_t(in[i])) << 16U) |
                       (std::uint32_t(std::uint8_t(in[i + 1])) << 8U) | std::uint8_t(in[i + 2]);
        for (int s = 18; s >= 0; s -= 6) {
            out += alphabet[(n >> static_cast<unsigned>(s)) & 63U];
        }
    }
    if (i < in.size()) {
        std::uint32_t n = std::uint32_t(std::uint8_t(in[i])) << 16U;
        if (i + 1 < in.size()) {
            n |= std::uint32_t(std::uint8_t(in[i + 1])) << 8U;
        }
        out += alphabet[(n >> 18U) & 63U];
        out += alphabet[(n >> 12U) & 63U];
        out += i + 1 < in.size() ? alphabet[(n >> 6U) & 63U] : '=';
        out += '=';
    }
    return out;
}

// The record as guest_facts.py prints it (76 characters a line, CRC-32 of the payload).
std::string console_record(const json& facts, const std::string& crc_override = "") {
    const std::string payload = base64(facts.dump());
    std::uint32_t crc = 0xFFFFFFFFU;
    for (const char c : payload) {
        crc ^= std::uint8_t(c);
        for (int b = 0; b < 8; ++b) {
            crc = (crc >> 1U) ^ (0xEDB88320U & (0U - (crc & 1U)));
        }
    }
    const std::string hex = fmt::format("{:08x}", ~crc);
    std::string out;
    const std::size_t lines = (payload.size() + 75) / 76;
    out += "CLOUDTIME-FACTS-BEGIN 1 " + std::to_string(lines) + "\r\n";
    for (std::size_t i = 0; i < lines; ++i) {
        out += "CLOUDTIME-FACTS " + std::to_string(i) + " " + payload.substr(i * 76, 76) + "\r\n";
        if (i == 0) {
            out += "[   61.123456] random: crng init done\r\n";  // the kernel cuts in between
        }
    }
    out += "CLOUDTIME-FACTS-END " + std::to_string(lines) + " " +
           (crc_override.empty() ? hex : crc_override) + "\r\n";
    return out;
}

// A reply to `nonce` from a stratum-4 server whose clock is `offset` ahead, sent 1 ms into a
// 2 ms round trip starting at t1.
std::string reply_base64(std::uint64_t nonce, double t1, double offset) {
    proto::Header h;
    h.leap = proto::Leap::none;
    h.mode = proto::Mode::server;
    h.stratum = 4;
    h.poll = 6;
    h.precision = -20;
    h.refid = 0x7F7F0101;
    h.origin = proto::NtpTimestamp{nonce};
    h.receive = proto::to_ntp(proto::UnixTime::from_seconds(t1 + 0.001 + offset));
    h.transmit = proto::to_ntp(proto::UnixTime::from_seconds(t1 + 0.001 + offset));
    h.reference = proto::to_ntp(proto::UnixTime::from_seconds(t1 - 10));
    std::array<std::uint8_t, proto::kHeaderSize> octets{};
    proto::encode_header(h, octets);
    return base64(std::string(octets.begin(), octets.end()));
}

constexpr std::uint64_t kNonceBase = 0x1122334455667700U;

json exchanges(double t1, double offset, int answered = 4) {
    json out = json::array();
    for (int i = 0; i < 4; ++i) {
        const double t = t1 + i;
        if (i >= answered) {
            out.push_back({{"t1", t}, {"lost", true}});
            continue;
        }
        const std::uint64_t nonce = kNonceBase | static_cast<std::uint8_t>(i);
        const std::string hex = fmt::format("{:016x}", nonce);
        out.push_back({{"t1", t},
                       {"t4", t + 0.002},
                       {"nonce", hex},
                       {"reply", reply_base64(nonce, t, offset)}});
    }
    return out;
}

// The head of what cloudtimed answers Nova (`cloudtime vendordata render`): a shell part.
const std::string kVendordata =
    "#!/bin/sh\n# cloudtime vendordata\nCLOUDTIME_SERVERS=\"169.254.169.254\"\n"
    "CLOUDTIME_PTP_KVM=yes\nCLOUDTIME_NTS=no\n";

// What a Debian 12 guest with chrony following the cloud's server records.
json chrony_guest(double t1 = 1796688700.0, double offset = 0.0002) {
    return {
        {"version", 1},
        {"began", t1 - 60},
        {"synchronized_at", t1 - 5},
        {"synchronized_uptime_s", 109.5},
        {"clock_resolution_s", 1e-9},
        {"cloud_init", {{"exit", 0}, {"out", "/usr/bin/cloud-init 22.4.2\n"}, {"err", ""}}},
        {"metadata",
         {{"vendor_data2.json",
           {{"status", 200}, {"body", json{{"cloud-init", kVendordata}}.dump()}}},
          {"vendor_data.json", {{"status", 200}, {"body", "{}"}}},
          {"meta_data.json", {{"status", 200}, {"body", R"({"uuid": "x", "meta": {}})"}}}}},
        {"config_drive", {{"error", "no device labelled config-2"}}},
        {"leases", json::object()},
        {"ptp", json::object()},
        {"timesyncd", {{"running", false}, {"synchronized", false}, {"configs", json::object()}}},
        {"chrony",
         {{"running", true},
          {"socket", true},
          {"tracking",
           {{"exit", 0},
            {"out",
             "A9FEA9FE,169.254.169.254,5,1796688690.100000000,-0.000001000,0.000002000,"
             "0.000003000,-12.345,-0.001,0.050,0.001000000,0.000500000,64.5,Normal\n"}}},
          {"sources",
           {{"exit", 0},
            {"out",
             "^,*,169.254.169.254,4,6,377,12,0.000001000,0.000002000,0.000150000\n"
             "^,?,2.debian.pool.ntp.org,0,6,0,-,0.000000000,0.000000000,0.000000000\n"}}},
          {"authdata", {{"exit", 0}, {"out", "169.254.169.254,-,0,0,0,0,0,0,0,0\n"}}}}},
        {"ntp",
         {{"169.254.169.254",
           json::array({{{"scope", nullptr}, {"exchanges", exchanges(t1, offset)}}})},
          {"169.254.169.123",
           json::array({{{"scope", nullptr}, {"exchanges", exchanges(t1, 0, 0)}}})}}},
    };
}

TEST(ConsoleRecord, FoundAmongTheConsolesOwnLines) {
    const std::string console = "Debian GNU/Linux 12 login:\r\n" + console_record(chrony_guest()) +
                                "[  130.1] cloud-init[398]: finished\r\n";
    auto record = read_console_record(console);
    ASSERT_TRUE(record) << record.error();
    EXPECT_EQ((*record)["version"], 1);
}

TEST(ConsoleRecord, TheLastWholeOneCounts) {
    json first = chrony_guest();
    first["began"] = 1.0;
    json second = chrony_guest();
    second["began"] = 2.0;
    auto record = read_console_record(console_record(first) + console_record(second));
    ASSERT_TRUE(record) << record.error();
    EXPECT_EQ((*record)["began"], 2.0);
}

TEST(ConsoleRecord, AGarbledOneIsAnErrorThatSaysSo) {
    auto record = read_console_record(console_record(chrony_guest(), "deadbeef"));
    ASSERT_FALSE(record);
    EXPECT_NE(record.error().find("garbled"), std::string::npos) << record.error();
}

TEST(ConsoleRecord, AMissingLineIsAnErrorThatSaysSo) {
    std::string console = console_record(chrony_guest());
    const auto at = console.find("CLOUDTIME-FACTS 1 ");
    console.erase(at, console.find('\n', at) - at + 1);
    auto record = read_console_record(console);
    ASSERT_FALSE(record);
    EXPECT_NE(record.error().find("lacks 1 of its"), std::string::npos) << record.error();
}

TEST(ConsoleRecord, NoneAtAll) {
    auto record = read_console_record("Debian GNU/Linux 12 login:\r\n");
    ASSERT_FALSE(record);
    EXPECT_NE(record.error().find("no cloudtime facts record"), std::string::npos);
}

TEST(ConsoleFacts, AChronyGuestFollowingTheCloudServerPasses) {
    auto gathered = facts_from_record(chrony_guest());
    ASSERT_TRUE(gathered) << gathered.error();
    const VmFacts& f = gathered->facts;
    EXPECT_EQ(f.cloud_init_version, "22.4.2");
    EXPECT_EQ(f.ptp_requested_by, "http://169.254.169.254/openstack/latest/vendor_data2.json");
    ASSERT_EQ(f.client.kind, ClientKind::chrony);
    ASSERT_TRUE(f.client.chrony);
    EXPECT_EQ(f.client.chrony->leap, proto::ChronyLeap::normal);
    EXPECT_EQ(f.client.chrony->stratum, 5);
    const auto followed = chrony_follows_cloud_server(f);
    ASSERT_TRUE(followed);
    EXPECT_EQ(followed->address, "169.254.169.254");
    // The silent 169.254.169.123 is not a server of this cloud; 169.254.169.254 answered four
    // times, found by the metadata service and by probing.
    ASSERT_EQ(f.servers.size(), 1U);
    EXPECT_EQ(f.servers[0].server, "169.254.169.254");
    ASSERT_TRUE(f.servers[0].answered());
    EXPECT_EQ(f.servers[0].result->samples.size(), 4U);
    EXPECT_NEAR(f.servers[0].result->summary->offset_s, 0.0002, 1e-6);
    EXPECT_NEAR(f.servers[0].result->summary->delay_s, 0.002, 1e-6);
    ASSERT_TRUE(gathered->synchronized_uptime_s);
    EXPECT_DOUBLE_EQ(*gathered->synchronized_uptime_s, 109.5);

    const auto results = evaluate_vm(f, VmThresholds{});
    for (const auto& r : results) {
        EXPECT_NE(r.verdict, Verdict::fail) << r.id << ": " << r.reason;
    }
}

bool any_fails(const std::vector<CheckResult>& results, const std::string& id) {
    return std::any_of(results.begin(), results.end(), [&](const CheckResult& r) {
        return r.id == id && r.verdict == Verdict::fail;
    });
}

TEST(ConsoleFacts, AnOffsetBeyondTheBoundFails) {
    // chronyd following the cloud's server says how far off the clock is: its view counts.
    json record = chrony_guest();
    std::string tracking = record["chrony"]["tracking"]["out"];
    tracking.replace(tracking.find("-0.000001000"), 12, "0.200000000");
    record["chrony"]["tracking"]["out"] = tracking;
    auto gathered = facts_from_record(record);
    ASSERT_TRUE(gathered) << gathered.error();
    EXPECT_TRUE(any_fails(evaluate_vm(gathered->facts, VmThresholds{}), "offset"));
    // Without a client that follows it, the gatherer's own measurement does.
    record = chrony_guest(1796688700.0, 0.2);
    record["chrony"] = nullptr;
    gathered = facts_from_record(record);
    ASSERT_TRUE(gathered) << gathered.error();
    EXPECT_TRUE(any_fails(evaluate_vm(gathered->facts, VmThresholds{}), "offset"));
}

TEST(ConsoleFacts, ANoClientGuestFailsNamingIt) {
    json record = chrony_guest();
    record["chrony"] = nullptr;
    auto gathered = facts_from_record(record);
    ASSERT_TRUE(gathered) << gathered.error();
    EXPECT_EQ(gathered->facts.client.kind, ClientKind::none);
    EXPECT_TRUE(any_fails(evaluate_vm(gathered->facts, VmThresholds{}), "client-synchronized"));
}

TEST(ConsoleFacts, ASilentMetadataServiceIsOneChannelSayingSo) {
    json record = chrony_guest();
    record["metadata"] = {{"vendor_data2.json", {{"error", "timed out"}}},
                          {"vendor_data.json", {{"error", "timed out"}}},
                          {"meta_data.json", {{"error", "timed out"}}}};
    auto gathered = facts_from_record(record);
    ASSERT_TRUE(gathered) << gathered.error();
    ASSERT_FALSE(gathered->facts.channels.empty());
    const Channel& c = gathered->facts.channels.front();
    EXPECT_EQ(c.kind, "metadata");
    ASSERT_FALSE(c.servers);
    EXPECT_NE(c.servers.error().find("does not answer: timed out"), std::string::npos);
}

TEST(ConsoleFacts, OptedOutByInstanceMetadata) {
    json record = chrony_guest();
    record["metadata"]["meta_data.json"]["body"] = R"({"meta": {"cloudtime_ntp": "off"}})";
    auto gathered = facts_from_record(record);
    ASSERT_TRUE(gathered) << gathered.error();
    EXPECT_EQ(gathered->facts.opted_out, "http://169.254.169.254/openstack/latest/meta_data.json");
}

TEST(ConsoleFacts, AReplyToAnotherRequestIsNotASample) {
    json record = chrony_guest();
    auto& first = record["ntp"]["169.254.169.254"][0]["exchanges"][0];
    first["nonce"] = "00000000000000ff";  // not what the reply echoes
    auto gathered = facts_from_record(record);
    ASSERT_TRUE(gathered) << gathered.error();
    const auto& result = gathered->facts.servers[0].result;
    ASSERT_TRUE(result);
    EXPECT_TRUE(result->rejection);  // origin mismatch: stopped there, as a query does
}

TEST(ConsoleFacts, ANewerRecordVersionIsRefused) {
    json record = chrony_guest();
    record["version"] = 2;
    EXPECT_FALSE(facts_from_record(record));
}

TEST(ChronycCsv, TrackingFieldsByPosition) {
    auto t = parse_chronyc_tracking(
        "7F7F0101,127.127.1.1,3,1796687198.023075845,0.000000100,-0.000000200,0.000000300,"
        "-1.500,0.001,0.020,0.000000000,0.000066992,16.0,Not synchronised\n");
    ASSERT_TRUE(t) << t.error();
    EXPECT_EQ(t->ref_id, 0x7F7F0101U);
    EXPECT_EQ(t->family, proto::ChronyAddressFamily::inet4);
    EXPECT_EQ(t->address[0], 127);
    EXPECT_EQ(t->stratum, 3);
    EXPECT_DOUBLE_EQ(t->current_correction_s, 0.0000001);
    EXPECT_DOUBLE_EQ(t->frequency_ppm, -1.5);
    EXPECT_DOUBLE_EQ(t->root_dispersion_s, 0.000066992);
    EXPECT_EQ(t->leap, proto::ChronyLeap::unsynchronized);
}

TEST(ChronycCsv, BadInputIsAnErrorNamingTheField) {
    EXPECT_FALSE(parse_chronyc_tracking("A,B\n"));
    auto t = parse_chronyc_tracking("XYZ,127.127.1.1,3,1.0,0,0,0,0,0,0,0,0,0,Normal\n");
    ASSERT_FALSE(t);
    EXPECT_NE(t.error().find("reference ID"), std::string::npos);
    auto s = parse_chronyc_sources("^,!,1.2.3.4,1,6,377,1,0,0,0\n");
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().find("state"), std::string::npos);
}

TEST(ChronycCsv, SourcesAndAuthdata) {
    auto s = parse_chronyc_sources(
        "^,*,169.254.169.254,4,6,377,12,0.000001,0.000002,0.00015\r\n"
        "#,+,PHC0,0,2,17,1,0.0000001,0.0000001,0.00000005\n"
        "^,?,fe80::a9fe:a9fe,0,6,0,-,0,0,0\n");
    ASSERT_TRUE(s) << s.error();
    ASSERT_EQ(s->size(), 3U);
    EXPECT_EQ((*s)[0].state, proto::ChronySourceState::selected);
    EXPECT_EQ((*s)[0].reachability, 0377);
    EXPECT_EQ((*s)[1].mode, proto::ChronySourceMode::reference_clock);
    EXPECT_EQ((*s)[2].family, proto::ChronyAddressFamily::inet6);
    auto a = parse_chronyc_authdata("169.254.169.254,NTS,1,15,256,33,0,0,8,100\n");
    ASSERT_TRUE(a) << a.error();
    EXPECT_EQ((*a)[0].first, "169.254.169.254");
    EXPECT_EQ((*a)[0].second.mode, proto::ChronyAuthMode::nts);
    EXPECT_EQ((*a)[0].second.cookies, 8);
    EXPECT_EQ((*a)[0].second.cookie_length, 100);
}

TEST(Base64, DecodesAndRefuses) {
    EXPECT_EQ(decode_base64("aGVsbG8="), "hello");
    EXPECT_EQ(decode_base64("aGVsbA=="), "hell");
    EXPECT_EQ(decode_base64(""), "");
    EXPECT_FALSE(decode_base64("aGVsbG8"));
    EXPECT_FALSE(decode_base64("aGV*bG8="));
}

TEST(Gatherer, AShellPartThatRunsPythonThree) {
    const std::string script = gatherer_user_data(120);
    EXPECT_EQ(script.rfind("#!/bin/sh\n", 0), 0U);
    EXPECT_NE(script.find("CLOUDTIME_WAIT_S=120"), std::string::npos);
    EXPECT_NE(script.find("def gather():"), std::string::npos);
    // User-data is limited to 64 KiB by Nova.
    EXPECT_LT(script.size(), 65536U);
}

}  // namespace
}  // namespace cloudtime::check
