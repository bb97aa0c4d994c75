// SPDX-License-Identifier: Apache-2.0
#include "check/vm_check.hpp"

#include <gtest/gtest.h>

#include <cerrno>

#include "check_results.hpp"

#include "check/lease_files.hpp"
#include "check/server_identity.hpp"
#include "cloud/vendordata.hpp"
#include "cloud/vendordata_servers.hpp"

namespace cloudtime::check {
namespace {

TEST(LeaseFiles, EachClientsFormat) {
    // ISC dhclient: the last lease counts.
    EXPECT_EQ(ntp_servers_in_lease("lease {\n  interface \"eth0\";\n  option ntp-servers "
                                   "10.0.0.1;\n}\nlease {\n  option ntp-servers "
                                   "169.254.169.254,169.254.169.123;\n}\n"),
              (std::vector<std::string>{"169.254.169.254", "169.254.169.123"}));
    // systemd-networkd (and NetworkManager's internal client).
    EXPECT_EQ(ntp_servers_in_lease("# This is private data. Do not parse.\nADDRESS=10.0.0.5\n"
                                   "NTP=169.254.169.254 10.0.0.1\n"),
              (std::vector<std::string>{"169.254.169.254", "10.0.0.1"}));
    // NetworkManager's device state.
    EXPECT_EQ(ntp_servers_in_lease("[dhcp4]\noption_42_ntp_servers=169.254.169.254\n"),
              std::vector<std::string>{"169.254.169.254"});
    EXPECT_TRUE(ntp_servers_in_lease("lease {\n  option routers 10.0.0.1;\n}\n").empty());
}

TEST(VendordataServers, OursAndCloudConfigNtp) {
    cloud::TimePolicy policy{.enabled = true,
                             .servers = {"169.254.169.254", "ntp.example.net"},
                             .ptp_kvm = true,
                             .strategy = cloud::Strategy::drop_in,
                             .install_client = false};
    const auto doc = cloud::vendordata_document(cloud::render_vendordata(policy));
    EXPECT_EQ(cloud::ntp_servers_in_vendordata(doc), policy.servers);
    policy.strategy = cloud::Strategy::cloud_init_ntp;
    const auto value = cloud::vendordata_value(cloud::render_vendordata(policy));
    EXPECT_EQ(cloud::ntp_servers_in_vendordata(value), policy.servers);
    // Another provider's cloud-config, flow style, in a part object.
    const nlohmann::json other = {
        {"cloud-init",
         nlohmann::json::array({{{"content",
                                  "#cloud-config\nntp:\n  enabled: true\n  servers: "
                                  "[10.1.1.1, '10.1.1.2']\npackages: [chrony]\n"}}})}};
    EXPECT_EQ(cloud::ntp_servers_in_vendordata(other),
              (std::vector<std::string>{"10.1.1.1", "10.1.1.2"}));
    EXPECT_TRUE(cloud::ntp_servers_in_vendordata(nullptr).empty());
    EXPECT_TRUE(cloud::ntp_servers_in_vendordata("#cloud-config\nruncmd: [ls]\n").empty());
}

// What one server says of itself in every answer (stratum, refid, reference time, root delay
// and dispersion): equal for every address the same server answers on.
proto::Header server_identity(std::uint32_t refid) {
    proto::Header h;
    h.mode = proto::Mode::server;
    h.stratum = 3;
    h.refid = refid;
    h.reference.raw = 0xEA00'0000'0000'0000ULL + refid;
    h.root_delay = proto::NtpShort::from_seconds(0.002);
    h.root_dispersion = proto::NtpShort::from_seconds(0.001);
    h.receive.raw = 0xEA00'0100'0000'0000ULL;
    return h;
}

ServerMeasurement answered_server(const std::string& name, double offset, double jitter,
                                  const std::string& found_by, std::uint32_t refid = 0) {
    client::QueryResult q;
    q.server = *sys::parse_socket_address(name, 123);
    q.sent = 4;
    q.samples.resize(4);
    // Each server its own identity unless told otherwise: two distinct servers by default.
    const std::uint32_t identity = refid != 0 ? refid : std::hash<std::string>{}(name)&0xFFFF'FFFFU;
    for (auto& sample : q.samples) {
        sample.header = server_identity(static_cast<std::uint32_t>(identity));
    }
    q.summary = proto::SampleSummary{0, offset, 0.0002, 0.0, jitter};
    return {name, {found_by}, q};
}

proto::ChronySource chrony_source(std::array<std::uint8_t, 16> address,
                                  proto::ChronySourceState state, std::uint16_t reachability) {
    proto::ChronySource s;
    s.family = proto::ChronyAddressFamily::inet4;
    s.address = address;
    s.state = state;
    s.reachability = reachability;
    return s;
}

VmFacts healthy() {
    VmFacts f;
    f.channels.push_back({"metadata", "http://169.254.169.254/openstack/latest/vendor_data2.json",
                          std::vector<std::string>{"169.254.169.254"}});
    f.servers.push_back(answered_server("169.254.169.254", 0.0002, 0.0001, "metadata"));
    f.servers.push_back(answered_server("169.254.169.123", 0.0003, 0.0001, "link-local"));
    f.ptp = std::vector<PtpClock>{};
    f.client.kind = ClientKind::chrony;
    proto::ChronyTracking t;
    t.family = proto::ChronyAddressFamily::inet4;
    t.address = {169, 254, 169, 254};
    t.stratum = 4;
    t.leap = proto::ChronyLeap::normal;
    f.client.chrony = t;
    t.current_correction_s = 0.0001;
    t.last_offset_s = -0.0002;
    t.rms_offset_s = 0.0003;
    f.client.chrony = t;
    // As `chronyc sources` shows a healthy VM: ^* 169.254.169.254 (377), ^? the pool.
    const auto ours = chrony_source({169, 254, 169, 254}, proto::ChronySourceState::selected, 0377);
    const auto pool =  // the distribution's own, unreachable here
        chrony_source({192, 0, 2, 1}, proto::ChronySourceState::nonselectable, 0);
    f.client.chrony_sources = std::vector<proto::ChronySource>{pool, ours};
    return f;
}

TEST(VmCheck, HealthyVmPasses) {
    const auto results = evaluate_vm(healthy(), {});
    EXPECT_EQ(exit_code(results), 0);
    EXPECT_EQ(verdict_of(results, "ptp-clock"), Verdict::skip);          // absent
    EXPECT_EQ(verdict_of(results, "source-redundancy"), Verdict::pass);  // two servers
}

TEST(VmCheck, AnOptedOutInstanceSkipsWhatTheCloudNoLongerProvides) {
    // cloudtime_ntp=off: no vendordata, chronyd follows the image's own (unreachable) pool.
    auto f = healthy();
    f.channels = {{"config-drive", "/dev/sr0/openstack/latest/vendor_data2.json",
                   std::vector<std::string>{}}};
    f.servers.clear();
    f.client.chrony_sources = std::vector<proto::ChronySource>{
        chrony_source({192, 0, 2, 1}, proto::ChronySourceState::nonselectable, 0)};
    EXPECT_EQ(exit_code(evaluate_vm(f, {})), 1);  // without the opt-out: the cloud failed
    f.opted_out = "/dev/sr0/openstack/latest/meta_data.json";
    const auto results = evaluate_vm(f, {});
    EXPECT_EQ(exit_code(results), 0);
    EXPECT_EQ(verdict_of(results, "time-source-delivered"), Verdict::skip);
    EXPECT_EQ(results[0].reason.rfind("opted out (cloudtime_ntp=off in "
                                      "/dev/sr0/openstack/latest/meta_data.json): no cloud time",
                                      0),
              0U)
        << results[0].reason;
    for (const auto& r : results) {
        EXPECT_NE(r.verdict, Verdict::fail) << r.id;
    }
    for (const char* id : {"ntp-servers-reachable", "client-synchronized", "offset"}) {
        EXPECT_EQ(verdict_of(results, id), Verdict::skip) << id;
    }
    EXPECT_EQ(verdict_of(results, "leap-status"), Verdict::pass);  // chronyd's, still true
    // What still holds keeps its verdict.
    const auto healthy_opted_out = [] {
        auto h = healthy();
        h.opted_out = "x";
        return evaluate_vm(h, {});
    }();
    EXPECT_EQ(verdict_of(healthy_opted_out, "client-synchronized"), Verdict::pass);
}

TEST(VmCheck, APtpClockAskedForButAbsentWarns) {
    auto f = healthy();
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "ptp-clock"), Verdict::skip);
    cloud::TimePolicy policy{.enabled = true,
                             .servers = {"169.254.169.254"},
                             .ptp_kvm = true,
                             .strategy = cloud::Strategy::drop_in,
                             .install_client = false};
    const auto doc = cloud::vendordata_document(cloud::render_vendordata(policy));
    EXPECT_TRUE(cloud::ptp_kvm_in_vendordata(doc));
    policy.ptp_kvm = false;
    EXPECT_FALSE(
        cloud::ptp_kvm_in_vendordata(cloud::vendordata_document(cloud::render_vendordata(policy))));
    f.ptp_requested_by = "/dev/sr0/openstack/latest/vendor_data2.json";
    const auto results = evaluate_vm(f, {});
    EXPECT_EQ(verdict_of(results, "ptp-clock"), Verdict::warn);
    EXPECT_EQ(exit_code(results), 0);  // NTP still works
}

TEST(VmCheck, VendorData2IsNotDeliveredToACloudInitThatDoesNotReadIt) {
    EXPECT_FALSE(cloud_init_reads_vendor_data2("20.4.1", "config-drive"));
    EXPECT_FALSE(cloud_init_reads_vendor_data2("22.1", "config-drive"));
    EXPECT_TRUE(cloud_init_reads_vendor_data2("22.2", "config-drive"));
    EXPECT_TRUE(cloud_init_reads_vendor_data2("25.1.4", "config-drive"));
    EXPECT_FALSE(cloud_init_reads_vendor_data2("20.4.1", "metadata"));
    EXPECT_TRUE(cloud_init_reads_vendor_data2("21.1", "metadata"));
    EXPECT_TRUE(cloud_init_reads_vendor_data2("", "config-drive"));  // unknown: no claim
    auto f = healthy();
    f.channels = {
        {"config-drive", "/mnt/openstack/latest/vendor_data2.json",
         std::vector<std::string>{"169.254.169.254"}},
        {"config-drive", "/mnt/openstack/latest/vendor_data.json", Error{"no NTP servers"}}};
    f.cloud_init_version = "22.4.2";
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "time-source-delivered"), Verdict::pass);
    f.cloud_init_version = "20.4.1";
    const auto results = evaluate_vm(f, {});
    EXPECT_EQ(verdict_of(results, "time-source-delivered"), Verdict::fail);
    EXPECT_NE(results[0].reason.find("config-drive (/mnt/openstack/latest/vendor_data2.json): "
                                     "169.254.169.254, but this image's cloud-init 20.4.1 does "
                                     "not read vendor_data2.json there"),
              std::string::npos)
        << results[0].reason;
    // Where vendor_data.json carries it too, time is delivered, and the rest is said.
    f.channels[1].servers = std::vector<std::string>{"169.254.169.254"};
    const auto both = evaluate_vm(f, {});
    EXPECT_EQ(verdict_of(both, "time-source-delivered"), Verdict::pass);
    EXPECT_NE(both[0].reason.find("does not read vendor_data2.json"), std::string::npos);
}

TEST(VmCheck, UnreachableServerIsNamed) {
    auto f = healthy();
    f.servers[0].result->summary.reset();
    f.servers[0].result->lost = 4;
    // Gone: chronyd hears nothing from it either.
    f.client.chrony_sources->back().reachability = 0;
    const auto results = evaluate_vm(f, {});
    EXPECT_EQ(exit_code(results), 1);
    EXPECT_EQ(verdict_of(results, "ntp-servers-reachable"), Verdict::fail);
    EXPECT_NE(results[1].reason.find("169.254.169.254 (from metadata): no answer to 4 requests"),
              std::string::npos)
        << results[1].reason;
    EXPECT_EQ(verdict_of(results, "client-synchronized"), Verdict::fail);  // not answering
}

TEST(VmCheck, ALostProbeOfTheServerChronydReachesIsNotUnreachable) {
    // One request to the server chronyd follows, dropped by a rate limit; chronyd's latest
    // poll was answered.
    auto f = healthy();
    f.servers[0].result->summary.reset();
    f.servers[0].result->samples.clear();
    f.servers[0].result->sent = 1;
    f.servers[0].result->lost = 1;
    const auto results = evaluate_vm(f, {});
    EXPECT_EQ(verdict_of(results, "ntp-servers-reachable"), Verdict::pass);
    EXPECT_NE(results[1].reason.find("169.254.169.254 (to chronyd, reachability 377; this "
                                     "check's requests: no answer to 1 request)"),
              std::string::npos)
        << results[1].reason;
    EXPECT_EQ(verdict_of(results, "client-synchronized"), Verdict::pass);
    // chronyd's latest poll went unanswered too, older ones were answered: not decided, said.
    f.client.chrony_sources->back().reachability = 0300;
    const auto doubtful = evaluate_vm(f, {});
    EXPECT_EQ(verdict_of(doubtful, "ntp-servers-reachable"), Verdict::warn);
    EXPECT_EQ(doubtful[1].reason.rfind("answered chronyd in its last polls but not its latest", 0),
              0U)
        << doubtful[1].reason;
    EXPECT_EQ(exit_code(doubtful), 0);
    // A refusal is an answer of its own: unreachable, whatever chronyd remembers.
    f.client.chrony_sources->back().reachability = 0377;
    f.servers[0].result = Error{"receive: Connection refused", ECONNREFUSED};
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "ntp-servers-reachable"), Verdict::fail);
}

TEST(VmCheck, OffsetAndJitterThresholds) {
    auto f = healthy();
    f.client = ClientFacts{};  // no NTP client: the check's own measurement is judged
    f.servers[1].result = Error{"gone"};
    f.servers[0].result->summary->offset_s = -0.020;
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "offset"), Verdict::warn);
    f.servers[0].result->summary->offset_s = 0.060;
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "offset"), Verdict::fail);
    f.servers[0].result->summary->jitter_s = 0.006;
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "jitter"), Verdict::fail);
}

TEST(VmCheck, RedundancyFollowsTheRuleAndAPtpClockCounts) {
    auto f = healthy();
    f.servers.pop_back();  // one server only
    VmThresholds required;
    required.redundancy = RedundancyRule::required;
    EXPECT_EQ(verdict_of(evaluate_vm(f, required), "source-redundancy"), Verdict::fail);
    VmThresholds advisory;
    advisory.redundancy = RedundancyRule::advisory;
    EXPECT_EQ(verdict_of(evaluate_vm(f, advisory), "source-redundancy"), Verdict::warn);
    // The decision record's minimum (one NTP server) is not a failure by default.
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "source-redundancy"), Verdict::warn);
    VmThresholds off;
    off.redundancy = RedundancyRule::off;
    EXPECT_EQ(verdict_of(evaluate_vm(f, off), "source-redundancy"), Verdict::skip);
    f.ptp = std::vector<PtpClock>{
        {{"ptp0", "KVM virtual PTP", "/dev/ptp0"}, Error{"/dev/ptp0: Permission denied", EACCES}}};
    const auto results = evaluate_vm(f, {});
    EXPECT_EQ(verdict_of(results, "source-redundancy"), Verdict::pass);
    EXPECT_EQ(verdict_of(results, "ptp-clock"), Verdict::warn);  // not the cloud's failure
    EXPECT_EQ(exit_code(results), 0);
}

TEST(VmCheck, ClientStates) {
    auto f = healthy();
    f.client.chrony = Error{"connect /run/chrony/chronyd.sock: Permission denied", EACCES};
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "client-synchronized"), Verdict::abort);
    f.client.chrony = Error{"no answer within 1000 ms"};
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "client-synchronized"), Verdict::fail);
    auto g = healthy();
    g.client.chrony->address = {10, 0, 0, 1};  // following something else
    EXPECT_EQ(verdict_of(evaluate_vm(g, {}), "client-synchronized"), Verdict::fail);
    g.client.chrony->family = proto::ChronyAddressFamily::unspecified;  // a refclock
    g.client.chrony->ref_id = 0x50484330;                               // "PHC0"
    g.ptp = std::vector<PtpClock>{{{"ptp0", "KVM virtual PTP", "/dev/ptp0"}, Error{"x"}}};
    auto phc = chrony_source({'P', 'H', 'C', '0'}, proto::ChronySourceState::selected, 0377);
    phc.family = proto::ChronyAddressFamily::unspecified;
    phc.mode = proto::ChronySourceMode::reference_clock;
    g.client.chrony_sources->push_back(phc);
    EXPECT_EQ(verdict_of(evaluate_vm(g, {}), "client-synchronized"), Verdict::pass);
    g.client.chrony->leap = proto::ChronyLeap::insert;
    EXPECT_EQ(verdict_of(evaluate_vm(g, {}), "leap-status"), Verdict::warn);
    auto h = healthy();
    h.client.kind = ClientKind::timesyncd;
    h.client.timesyncd_synchronized = true;
    h.client.timesyncd_servers = {"169.254.169.254"};
    EXPECT_EQ(verdict_of(evaluate_vm(h, {}), "client-synchronized"), Verdict::pass);
    h.client.kind = ClientKind::none;
    EXPECT_EQ(verdict_of(evaluate_vm(h, {}), "client-synchronized"), Verdict::fail);
}

TEST(VmCheck, AuthenticationOfTheCloudSource) {
    auto f = healthy();
    const auto reason = [](const VmFacts& facts) {
        for (const auto& r : evaluate_vm(facts, {})) {
            if (r.id == "client-authenticated") {
                return r.reason;
            }
        }
        return std::string("absent");
    };
    // chronyd could not be asked, and nobody asked for NTS: nothing to judge.
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "client-authenticated"), Verdict::skip);
    proto::ChronyAuthData plain;
    f.client.chrony_auth = plain;
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "client-authenticated"), Verdict::skip);
    // The vendordata asks for NTS: plain NTP is a failure, not knowing an abort.
    f.nts_requested_by = "http://169.254.169.254/openstack/latest/vendor_data2.json";
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "client-authenticated"), Verdict::fail);
    EXPECT_EQ(reason(f),
              "chronyd does not authenticate 169.254.169.254 (plain NTP); the vendordata "
              "(http://169.254.169.254/openstack/latest/vendor_data2.json) asks for NTS");
    f.client.chrony_auth = Error{"chrony refused the authdata request"};
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "client-authenticated"), Verdict::abort);
    proto::ChronyAuthData nts{.mode = proto::ChronyAuthMode::nts,
                              .key_type = 15,
                              .key_length = 256,
                              .ke_attempts = 0,
                              .last_ke_ago = 42,
                              .cookies = 8,
                              .cookie_length = 100,
                              .naks = 0};
    f.client.chrony_auth = nts;
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "client-authenticated"), Verdict::pass);
    EXPECT_EQ(reason(f),
              "chronyd authenticates 169.254.169.254 with NTS (AEAD 15, 8 cookies, key "
              "established 42 s ago, 0 NAKs)");
    nts.cookies = 0;
    nts.ke_attempts = 3;
    f.client.chrony_auth = nts;
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "client-authenticated"), Verdict::fail);
    // timesyncd has no NTS: a warning where it was asked for, a skip where not.
    f.client.kind = ClientKind::timesyncd;
    f.client.timesyncd_synchronized = true;
    f.client.timesyncd_servers = {"169.254.169.254"};
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "client-authenticated"), Verdict::warn);
    f.nts_requested_by.clear();
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "client-authenticated"), Verdict::skip);
}

TEST(VmCheck, ClientConfiguredWithTheCloudsServers) {
    auto f = healthy();
    auto results = evaluate_vm(f, {});
    EXPECT_EQ(verdict_of(results, "client-uses-cloud-servers"), Verdict::pass);
    f.client.chrony_sources->pop_back();  // only the distribution's pool left
    results = evaluate_vm(f, {});
    EXPECT_EQ(verdict_of(results, "client-uses-cloud-servers"), Verdict::fail);
    EXPECT_EQ(results[3].reason,
              "its servers (192.0.2.1) include none of the cloud's (169.254.169.123 "
              "169.254.169.254)");
    f.client.chrony_sources = Error{"connect: Permission denied", EACCES};
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "client-uses-cloud-servers"), Verdict::abort);
}

TEST(VmCheck, WaitingHelpsOnlyWhatTimeCanChange) {
    auto f = healthy();
    EXPECT_FALSE(waiting_may_help(f, evaluate_vm(f, {})));  // nothing fails
    // chronyd follows nothing yet (just booted): it may, a few polls on.
    f.client.chrony_sources->back().state = proto::ChronySourceState::selectable;
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "client-synchronized"), Verdict::fail);
    EXPECT_TRUE(waiting_may_help(f, evaluate_vm(f, {})));
    EXPECT_FALSE(configured_elsewhere(f, evaluate_vm(f, {})));
    // Still starting: no sources listed yet, or no socket yet.
    f.client.chrony_sources = std::vector<proto::ChronySource>{};
    EXPECT_TRUE(waiting_may_help(f, evaluate_vm(f, {})));
    EXPECT_FALSE(configured_elsewhere(f, evaluate_vm(f, {})));
    f.client.chrony_sources = Error{"connect: No such file or directory", ENOENT};
    EXPECT_FALSE(configured_elsewhere(f, evaluate_vm(f, {})));
    // Configured with the tenant's own server only: its configuration, once that lasts.
    f.client.chrony_sources = std::vector<proto::ChronySource>{
        chrony_source({192, 0, 2, 123}, proto::ChronySourceState::nonselectable, 0)};
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "client-uses-cloud-servers"), Verdict::fail);
    EXPECT_TRUE(configured_elsewhere(f, evaluate_vm(f, {})));
    // No client at all.
    f = healthy();
    f.client = {};
    EXPECT_FALSE(waiting_may_help(f, evaluate_vm(f, {})));
}

TEST(VmCheck, NothingDelivered) {
    VmFacts f;
    f.channels.push_back({"metadata", "http://169.254.169.254/", Error{"does not answer"}});
    f.ptp = std::vector<PtpClock>{};
    const auto results = evaluate_vm(f, {});
    EXPECT_EQ(results[0].verdict, Verdict::fail);
    EXPECT_EQ(results[0].reason.rfind("no cloud time source delivered", 0), 0U);
    EXPECT_EQ(exit_code(results), 1);
    // A client runs, but cloud-init delivered nothing before the check: waiting is no use.
    f.client.kind = ClientKind::chrony;
    EXPECT_FALSE(waiting_may_help(f, evaluate_vm(f, {})));
}

TEST(VmCheck, AChronydThatIsNotRunningIsSaidSo) {
    VmFacts f;
    f.channels.push_back({"metadata", "http://169.254.169.254/openstack/latest/vendor_data2.json",
                          std::vector<std::string>{"169.254.169.254"}});
    f.servers.push_back(answered_server("169.254.169.254", 0.0002, 0.0001, "metadata"));
    f.ptp = std::vector<PtpClock>{};
    f.client.kind = ClientKind::chrony;
    f.client.chrony_socket = "/run/chrony/chronyd.sock";
    f.client.chrony_socket_left = true;
    f.client.chrony = Error{"chronyd is not running"};
    f.client.chrony_sources = Error{"chronyd is not running"};
    const auto results = evaluate_vm(f, {});
    const auto synchronized = std::ranges::find_if(
        results, [](const CheckResult& r) { return r.id == "client-synchronized"; });
    ASSERT_NE(synchronized, results.end());
    EXPECT_EQ(synchronized->verdict, Verdict::fail);
    EXPECT_EQ(synchronized->reason.rfind("chronyd is not running (/run/chrony/chronyd.sock is "
                                         "left from an earlier run)",
                                         0),
              0U)
        << synchronized->reason;
    for (const auto& r : results) {
        EXPECT_EQ(r.reason.find("bind "), std::string::npos) << r.id << ": " << r.reason;
    }
}

TEST(VmCheck, OneServerOnSeveralAddressesCountsOnce) {
    // cloudtimed answers on 169.254.169.254, fe80::a9fe:a9fe and a managed 169.254.169.123:
    // the same stratum, refid, reference time and root values, so one server, not three.
    auto f = healthy();
    f.servers.clear();
    f.servers.push_back(answered_server("169.254.169.254", 0.0002, 0.0001, "metadata", 7));
    f.servers.push_back(answered_server("169.254.169.123", 0.0002, 0.0001, "link-local", 7));
    f.servers.push_back(answered_server("fe80::a9fe:a9fe", 0.0002, 0.0001, "link-local", 7));
    // The later answers' dispersion grew at 15 ppm over the second between them.
    for (auto& sample : f.servers[2].result->samples) {
        sample.header.receive.raw += 1ULL << 32U;
        sample.header.root_dispersion = proto::NtpShort::from_seconds(0.001 + 15e-6);
    }
    EXPECT_EQ(distinct_servers(f), 1U);
    const auto results = evaluate_vm(f, {});
    EXPECT_EQ(verdict_of(results, "source-redundancy"), Verdict::warn);
    EXPECT_EQ(results[6].reason.rfind("0 PTP clocks, 1 answering cloud NTP server (on "
                                      "169.254.169.254, 169.254.169.123, fe80::a9fe:a9fe)",
                                      0),
              0U)
        << results[6].reason;
    EXPECT_NE(results[6].reason.find("KVM PTP clock"), std::string::npos);  // what to add
    // Another server (its own reference time) makes two.
    f.servers.push_back(answered_server("169.254.169.1", 0.0002, 0.0001, "dhcp", 8));
    EXPECT_EQ(distinct_servers(f), 2U);
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "source-redundancy"), Verdict::pass);
}

TEST(VmCheck, SameServerNeedsEveryIdentityFieldAndConsistentDispersion) {
    const proto::Header a = server_identity(7);
    EXPECT_TRUE(same_server(a, a));
    proto::Header b = a;
    b.reference.raw += 1;
    EXPECT_FALSE(same_server(a, b));
    b = a;
    b.root_delay.raw += 1;
    EXPECT_FALSE(same_server(a, b));
    b = a;
    b.stratum = 4;
    EXPECT_FALSE(same_server(a, b));
    // Dispersion may grow by 15 ppm of the time between the answers, not more.
    b = a;
    b.receive.raw += 10ULL << 32U;  // 10 s later: 150 us of growth, plus two roundings
    b.root_dispersion.raw += 12;    // +183 us
    EXPECT_FALSE(same_server(a, b));
    b.root_dispersion.raw = a.root_dispersion.raw + 11;  // +168 us
    EXPECT_TRUE(same_server(a, b));
    // The upstream updated the server between the two answers: a new reference time (after
    // the first answer, before the second) and new root values, still one server.
    proto::Header updated = a;
    updated.receive.raw = a.receive.raw + (2ULL << 32U);
    updated.reference.raw = a.receive.raw + (1ULL << 32U);
    updated.root_delay.raw += 40;
    updated.root_dispersion.raw += 300;
    EXPECT_TRUE(same_server(a, updated));
    EXPECT_TRUE(same_server(updated, a));
    // A reference time that does not fall between the answers is another server's.
    updated.reference.raw = a.receive.raw - (5ULL << 32U);
    EXPECT_FALSE(same_server(a, updated));
    updated.reference.raw = updated.receive.raw + (1ULL << 32U);  // in the future
    EXPECT_FALSE(same_server(a, updated));
}

TEST(VmCheck, FollowsMeansSelectedAndReachable) {
    auto f = healthy();
    auto& ours = f.client.chrony_sources->back();
    ours.state = proto::ChronySourceState::nonselectable;  // '^?' while tracking still names it
    auto results = evaluate_vm(f, {});
    EXPECT_EQ(verdict_of(results, "client-synchronized"), Verdict::fail);
    EXPECT_EQ(results[2].reason,
              "chronyd does not follow 169.254.169.254 now: nonselectable ('?'), reachability "
              "377");
    ours.state = proto::ChronySourceState::selected;
    ours.reachability = 0;
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "client-synchronized"), Verdict::fail);
    // `chronyc delete 169.254.169.254`: gone from the sources, tracking still names it.
    f.client.chrony_sources->pop_back();
    results = evaluate_vm(f, {});
    EXPECT_EQ(verdict_of(results, "client-synchronized"), Verdict::fail);
    EXPECT_EQ(results[2].reason,
              "chronyd's last reference 169.254.169.254 is no longer among its sources");
    // Sources that cannot be listed: not confirmed, and said so.
    f.client.chrony_sources = Error{"connect: Permission denied", EACCES};
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "client-synchronized"), Verdict::abort);
    auto g = healthy();
    results = evaluate_vm(g, {});
    EXPECT_EQ(verdict_of(results, "client-synchronized"), Verdict::pass);
    EXPECT_NE(results[2].reason.find("selected ('*'), reachability 377"), std::string::npos);
}

ServerMeasurement rate_limited_server(const std::string& name, std::size_t samples_before) {
    auto s = answered_server(name, 0.0002, 0.0001, "metadata", 7);
    s.result->samples.resize(samples_before);
    s.result->rejection = client::Rejection{proto::ReplyVerdict::kiss_of_death, {}};
    s.result->rejection->header.refid = proto::kKissRate;
    return s;
}

TEST(VmCheck, KissOfDeathRateIsNotUnreachable) {
    auto f = healthy();
    f.servers = {rate_limited_server("169.254.169.254", 2)};
    auto results = evaluate_vm(f, {});
    EXPECT_EQ(verdict_of(results, "ntp-servers-reachable"), Verdict::pass);
    EXPECT_NE(results[1].reason.find("rate-limited this check"), std::string::npos);
    // chronyd follows it: chronyd's own measurement is judged, not the cut-short probe.
    EXPECT_EQ(verdict_of(results, "client-synchronized"), Verdict::pass);
    EXPECT_EQ(verdict_of(results, "offset"), Verdict::pass);
    EXPECT_EQ(results[4].reason.rfind("chronyd, following 169.254.169.254", 0), 0U);
    EXPECT_EQ(verdict_of(results, "jitter"), Verdict::pass);
    EXPECT_EQ(results[5].reason.rfind("chronyd's RMS offset", 0), 0U);
    EXPECT_EQ(exit_code(results), 0);
    // Without a client that follows it there is nothing to judge the offset by: ABORT, not
    // "unreachable", and not a jitter over the two answers that came before the KoD.
    f.client = ClientFacts{};
    results = evaluate_vm(f, {});
    EXPECT_EQ(verdict_of(results, "ntp-servers-reachable"), Verdict::pass);
    EXPECT_EQ(verdict_of(results, "offset"), Verdict::abort);
    EXPECT_NE(results[4].reason.find("rate-limited this check (KoD RATE)"), std::string::npos);
    EXPECT_EQ(verdict_of(results, "jitter"), Verdict::abort);
}

TEST(VmCheck, JitterNeedsThreeAnsweredRequests) {
    auto f = healthy();
    f.client = ClientFacts{};
    f.servers.pop_back();
    f.servers[0].result->samples.resize(2);  // two of four dropped by a rate limit
    f.servers[0].result->lost = 2;
    const auto results = evaluate_vm(f, {});
    EXPECT_EQ(verdict_of(results, "jitter"), Verdict::abort);
    EXPECT_EQ(results[5].reason,
              "only 2 of 4 requests to 169.254.169.254 were answered; jitter needs 3");
}

TEST(VmCheck, ChronysOffsetIsJudgedWhenItFollowsTheCloud) {
    auto f = healthy();
    f.client.chrony->current_correction_s = 0.030;
    auto results = evaluate_vm(f, {});
    EXPECT_EQ(verdict_of(results, "offset"), Verdict::warn);
    f.client.chrony->last_offset_s = -0.070;
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "offset"), Verdict::fail);
    f.client.chrony->rms_offset_s = 0.006;
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "jitter"), Verdict::fail);
}

TEST(VmCheck, SameFailureOfBothMetadataFilesIsSaidOnce) {
    VmFacts f;
    f.channels.push_back({"metadata", "http://169.254.169.254/a", Error{"does not answer"}});
    f.channels.push_back({"metadata", "http://169.254.169.254/b", Error{"does not answer"}});
    f.ptp = std::vector<PtpClock>{};
    const auto results = evaluate_vm(f, {});
    EXPECT_EQ(results[0].reason,
              "no cloud time source delivered: metadata: does not answer; no PTP clock");
}

}  // namespace
}  // namespace cloudtime::check
