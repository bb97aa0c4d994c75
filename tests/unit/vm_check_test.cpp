#include "check/vm_check.hpp"

#include <gtest/gtest.h>

#include <cerrno>

#include "check_results.hpp"

#include "check/lease_files.hpp"
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

ServerMeasurement answered_server(const std::string& name, double offset, double jitter,
                                  const std::string& found_by) {
    client::QueryResult q;
    q.server = *sys::parse_socket_address(name + ":123");
    q.sent = 4;
    q.samples.resize(4);
    q.summary = proto::SampleSummary{0, offset, 0.0002, 0.0, jitter};
    return {name, {found_by}, q};
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
    proto::ChronySource ours;
    ours.family = proto::ChronyAddressFamily::inet4;
    ours.address = {169, 254, 169, 254};
    proto::ChronySource pool;  // the distribution's own, unreachable here
    pool.family = proto::ChronyAddressFamily::inet4;
    pool.address = {192, 0, 2, 1};
    f.client.chrony_sources = std::vector<proto::ChronySource>{pool, ours};
    return f;
}

TEST(VmCheck, HealthyVmPasses) {
    const auto results = evaluate_vm(healthy(), {});
    EXPECT_EQ(exit_code(results), 0);
    EXPECT_EQ(verdict_of(results, "ptp-clock"), Verdict::skip);          // absent
    EXPECT_EQ(verdict_of(results, "source-redundancy"), Verdict::pass);  // two servers
}

TEST(VmCheck, UnreachableServerIsNamed) {
    auto f = healthy();
    f.servers[0].result->summary.reset();
    f.servers[0].result->lost = 4;
    const auto results = evaluate_vm(f, {});
    EXPECT_EQ(exit_code(results), 1);
    EXPECT_EQ(verdict_of(results, "ntp-servers-reachable"), Verdict::fail);
    EXPECT_NE(results[1].reason.find("169.254.169.254 (from metadata): no answer to 4 requests"),
              std::string::npos)
        << results[1].reason;
    EXPECT_EQ(verdict_of(results, "client-synchronized"), Verdict::fail);  // not answering
}

TEST(VmCheck, OffsetAndJitterThresholds) {
    auto f = healthy();
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
    EXPECT_EQ(verdict_of(evaluate_vm(f, {}), "source-redundancy"), Verdict::fail);
    VmThresholds advisory;
    advisory.redundancy = RedundancyRule::advisory;
    EXPECT_EQ(verdict_of(evaluate_vm(f, advisory), "source-redundancy"), Verdict::warn);
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

TEST(VmCheck, NothingDelivered) {
    VmFacts f;
    f.channels.push_back({"metadata", "http://169.254.169.254/", Error{"does not answer"}});
    f.ptp = std::vector<PtpClock>{};
    const auto results = evaluate_vm(f, {});
    EXPECT_EQ(results[0].verdict, Verdict::fail);
    EXPECT_EQ(results[0].reason.rfind("no cloud time source delivered", 0), 0U);
    EXPECT_EQ(exit_code(results), 1);
}

}  // namespace
}  // namespace cloudtime::check
