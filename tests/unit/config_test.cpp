// SPDX-License-Identifier: Apache-2.0
#include "config/config.hpp"
#include "config/interface_pattern.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace cloudtime::config {
namespace {

TEST(Config, EmbeddedDefaultServesOnLoopback) {
    const Config c = default_config();
    ASSERT_EQ(c.listen.size(), 1U);
    EXPECT_EQ(c.listen[0].to_string(), "127.0.0.1:11123");
    EXPECT_EQ(c.threads, 0U);
    EXPECT_EQ(c.receive_buffer, 4U << 20U);
    EXPECT_EQ(c.user, "_cloudtime");
    EXPECT_EQ(c.runtime_directory, "/run/cloudtime");
    EXPECT_FALSE(c.tenant_networks.enabled);
    EXPECT_FALSE(c.metrics.enabled);
    EXPECT_EQ(c.metrics.listen.to_string(), "127.0.0.1:9124");
    EXPECT_EQ(c.metrics.max_tenant_series, 100U);
    EXPECT_EQ(c.tenant_networks.netns_dir, "/run/netns");
    EXPECT_EQ(c.tenant_networks.patterns, (std::vector<std::string>{"ovnmeta-*", "qdhcp-*"}));
    ASSERT_EQ(c.tenant_networks.addresses.size(), 2U);
    EXPECT_EQ(c.tenant_networks.addresses[1].host_string(), "fe80::a9fe:a9fe");
    EXPECT_EQ(c.tenant_networks.port, 123);
    EXPECT_TRUE(c.tenant_networks.managed_addresses.empty());
    EXPECT_TRUE(c.tenant_networks.router_patterns.empty());
    EXPECT_FALSE(c.vendordata.enabled);
    EXPECT_EQ(c.vendordata.listen.to_string(), "127.0.0.1:8790");
    EXPECT_EQ(c.vendordata.policy.servers, (std::vector<std::string>{"169.254.169.254"}));
    EXPECT_TRUE(c.vendordata.policy.ptp_kvm);
    EXPECT_EQ(c.vendordata.policy.strategy, cloud::Strategy::drop_in);
    EXPECT_FALSE(c.vendordata.policy.install_client);
    EXPECT_TRUE(c.vendordata.policy.xleave);
    EXPECT_TRUE(c.interleaved);
    EXPECT_EQ(c.interleaved_records, 65536U);
    EXPECT_EQ(c.tenant_networks.router_interfaces, "qr-*");
    EXPECT_EQ(c.tenant_networks.router_port, 10123);
    EXPECT_EQ(c.clock_source, ClockSourceKind::automatic);
    EXPECT_EQ(c.chrony_socket, "/run/chrony/chronyd.sock");
    EXPECT_EQ(c.holdover_s, 0.0);
    EXPECT_EQ(c.leap_mode, proto::LeapMode::pass);
    EXPECT_EQ(c.leap_seconds_file, "/usr/share/zoneinfo/leap-seconds.list");
    EXPECT_EQ(c.smear.duration_s, 86'400);
    EXPECT_EQ(c.smear.start_before_s, 43'200);
    EXPECT_EQ(c.smear.shape, proto::SmearShape::linear);
    EXPECT_EQ(c.local_stratum, 10);
    EXPECT_EQ(c.log_level, "info");
}

TEST(Config, VendordataPolicyAndRules) {
    auto c = parse_config(R"([vendordata]
enabled = true
listen = "[::1]:8790"
servers = ["169.254.169.254", "ntp.example.net"]
strategy = "cloud-init-ntp"
ptp_kvm = false
allowed_clients = ["10.0.0.0/8"]

[[vendordata.rules]]
image_ids = ["img-1", "img-2"]
ptp_kvm = true
xleave = false

[[vendordata.rules]]
project_ids = ["p"]
metadata = { tier = "gold" }
enabled = false
)",
                          "t.toml");
    ASSERT_TRUE(c) << c.error();
    const auto& v = c->vendordata;
    EXPECT_TRUE(v.enabled);
    EXPECT_EQ(v.listen.to_string(), "[::1]:8790");
    EXPECT_EQ(v.policy.servers, (std::vector<std::string>{"169.254.169.254", "ntp.example.net"}));
    EXPECT_EQ(v.policy.strategy, cloud::Strategy::cloud_init_ntp);
    EXPECT_FALSE(v.policy.ptp_kvm);
    EXPECT_TRUE(v.policy.enabled);  // the endpoint's switch is not the policy's
    ASSERT_EQ(v.rules.size(), 2U);
    EXPECT_EQ(v.rules[0].image_ids, (std::vector<std::string>{"img-1", "img-2"}));
    EXPECT_EQ(v.rules[0].change.ptp_kvm, true);
    EXPECT_EQ(v.rules[0].change.xleave, false);
    EXPECT_EQ(v.rules[1].metadata.at("tier"), "gold");
    EXPECT_EQ(v.rules[1].change.enabled, false);
    EXPECT_EQ(v.allowed_clients.size(), 1U);
}

TEST(Config, AnEmptyNtsTrustedCaIsTheDocumentedDefault) {
    // "" is what the operator guide names as the default (the image's own trust store), and
    // what the Ansible role writes when its variable is unset; a path is still refused.
    auto c = parse_config("[vendordata]\nnts = true\nnts_trusted_ca = \"\"\n", "t.toml");
    ASSERT_TRUE(c) << c.error();
    EXPECT_TRUE(c->vendordata.policy.nts);
    EXPECT_EQ(c->vendordata.policy.nts_ca, "");
    c = parse_config("[vendordata]\nnts_trusted_ca = \"/etc/ca.pem\"\n", "t.toml");
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().find("not a path"), std::string::npos);
}

TEST(Config, FileHoldsOnlyWhatItChanges) {
    auto c = parse_config("[clock]\nsource = \"local\"\nlocal_stratum = 7\n", "t.toml");
    ASSERT_TRUE(c) << c.error();
    EXPECT_EQ(c->clock_source, ClockSourceKind::local);
    EXPECT_EQ(c->local_stratum, 7);
    EXPECT_EQ(c->listen[0].to_string(), "127.0.0.1:11123");  // default kept
}

TEST(Config, ClockAndLeapKeys) {
    auto c = parse_config(
        "[clock]\nsource = \"chrony\"\nchrony_socket = \"/tmp/c.sock\"\nholdover = 30\n"
        "[leap]\nmode = \"smear\"\nsmear_shape = \"cosine\"\nsmear_duration = 72000\n"
        "smear_start_before = 36000\nleap_seconds_file = \"/etc/leap\"\n",
        "t.toml");
    ASSERT_TRUE(c) << c.error();
    EXPECT_EQ(c->clock_source, ClockSourceKind::chrony);
    EXPECT_EQ(c->chrony_socket, "/tmp/c.sock");
    EXPECT_EQ(c->holdover_s, 30.0);
    EXPECT_EQ(c->leap_mode, proto::LeapMode::smear);
    EXPECT_EQ(c->smear.shape, proto::SmearShape::cosine);
    EXPECT_EQ(c->smear.duration_s, 72'000);
    EXPECT_EQ(c->smear.start_before_s, 36'000);
    EXPECT_EQ(c->leap_seconds_file, "/etc/leap");
}

TEST(Config, SeveralListenAddresses) {
    auto c = parse_config(
        "[server]\nlisten = [\"127.0.0.1:1123\", \"[::1]:1123\", \"0.0.0.0:123\"]\nthreads = 2\n",
        "t.toml");
    ASSERT_TRUE(c) << c.error();
    ASSERT_EQ(c->listen.size(), 3U);
    EXPECT_TRUE(c->listen[1].is_ipv6());
    EXPECT_EQ(c->threads, 2U);
}

struct BadCase {
    const char* text;
    const char* expected;  // the error must start with this
};

TEST(Config, BadFilesNameFileLineAndProblem) {
    const BadCase cases[] = {
        {"[server]\nlisten = [\"127.0.0.1\"]\n",
         "bad.toml:2: server.listen: '127.0.0.1': expected"},
        {"[server]\n\nthreads = -1\n", "bad.toml:3: server.threads must be between 0 and 1024"},
        {"[server]\nthreads = \"four\"\n", "bad.toml:2: server.threads must be an integer"},
        {"[server]\nlisten = []\n", "bad.toml:2: server.listen must name at least one address"},
        {"[server]\nlisten = [\"127.0.0.1:1\",\n\"[::1]:1\", \"127.0.0.1:1\"]\n",
         "bad.toml:3: server.listen: 127.0.0.1:1 is listed twice"},
        {"[server]\nlisten = \"127.0.0.1:1\"\n", "bad.toml:2: server.listen must be an array"},
        {"[server]\nlistn = 1\n", "bad.toml:2: unknown key 'listn' in [server]"},
        {"[clock]\nsource = \"gps\"\n", "bad.toml:2: clock.source must be"},
        {"[clock]\nsource = \"ntp\"\n",
         "bad.toml:2: clock.source must be \"auto\", \"chrony\", \"kernel\" or \"local\""},
        {"[clock]\nchrony_socket = \"\"\n", "bad.toml:2: clock.chrony_socket must not be empty"},
        {"[clock]\nholdover = -1\n", "bad.toml:2: clock.holdover must be a number of seconds"},
        {"[leap]\nmode = \"slew\"\n", "bad.toml:2: leap.mode must be \"pass\" or \"smear\""},
        {"[leap]\nsmear_shape = \"quadratic\"\n", "bad.toml:2: leap.smear_shape must be"},
        {"[leap]\nsmear_duration = 60\n", "bad.toml:2: leap.smear_duration must be between 3600"},
        {"[leap]\nsmear_duration = 7200\nsmear_start_before = 7201\n",
         "bad.toml:3: leap.smear_start_before must not exceed leap.smear_duration"},
        {"[clock]\nlocal_stratum = 16\n",
         "bad.toml:2: clock.local_stratum must be between 1 and 15"},
        {"[clock]\nlocal_refid = \"TOOLONG\"\n", "bad.toml:2: clock.local_refid 'TOOLONG'"},
        {"[log]\nlevel = \"loud\"\n", "bad.toml:2: log.level 'loud'"},
        {"[vendordata]\nstrategy = \"ntp\"\n",
         "bad.toml:2: vendordata.strategy must be \"drop-in\" or \"cloud-init-ntp\", not \"ntp\""},
        {"[vendordata]\nservers = []\n",
         "bad.toml:2: vendordata.servers must name at least one NTP server"},
        {"[vendordata]\nservers = [\"ntp server\"]\n",
         "bad.toml:2: vendordata.servers: 'ntp server' is not an address or a DNS name"},
        {"[vendordata]\nlisten = \"localhost\"\n", "bad.toml:2: vendordata.listen: "},
        {"[vendordata]\npath = \"vendordata\"\n",
         "bad.toml:2: vendordata.path must start with '/'"},
        {"[vendordata]\nmax_body = 10\n", "bad.toml:2: vendordata.max_body must be between 1024"},
        {"[vendordata]\ntls_key = \"/k.pem\"\n",
         "bad.toml:1: vendordata.tls_certificate and vendordata.tls_key go together"},
        {"[vendordata]\nallowed_clients = [\"10.0.0.1/8\"]\n",
         "bad.toml:2: vendordata.allowed_clients: '10.0.0.1/8': address has bits"},
        {"[[vendordata.rules]]\nimage_id = \"x\"\n",
         "bad.toml:2: unknown key 'image_id' in [vendordata.rules]"},
        {"[[vendordata.rules]]\nmetadata = { cloudtime_ptp = false }\n",
         "bad.toml:2: vendordata.rules.metadata.cloudtime_ptp must be a string"},
        {"[vendordata]\nrules = 1\n", "bad.toml:2: vendordata.rules must be"},
        {"[status]\npath = \"/tmp/x\"\n", "bad.toml:2: unknown key 'path' in [status]"},
        {"[metrics]\nport = 9124\n", "bad.toml:2: unknown key 'port' in [metrics]"},
        {"[metrics]\nlisten = \"localhost:9124\"\n", "bad.toml:2: metrics.listen: "},
        {"[metrics]\nallowed_clients = [\"10.0.0.1/8\"]\n",
         "bad.toml:2: metrics.allowed_clients: '10.0.0.1/8': address has bits"},
        {"[metrics]\nmax_tenant_series = -1\n",
         "bad.toml:2: metrics.max_tenant_series must be between 0 and 100000"},
        {"[metrics]\nenabled = 1\n", "bad.toml:2: metrics.enabled must be true or false"},
        {"[tenant_networks]\naddresses = [\"metadata\"]\n",
         "bad.toml:2: tenant_networks.addresses: 'metadata' is not an IP address"},
        {"[tenant_networks]\npatterns = \"ovnmeta-*\"\n",
         "bad.toml:2: tenant_networks.patterns must be an array of strings"},
        {"[tenant_networks]\nport = 0\n", "bad.toml:2: tenant_networks.port must be between 1"},
        {"[tenant_networks]\nmanaged_addresses = [\"169.254.169.1234\"]\n",
         "bad.toml:2: tenant_networks.managed_addresses: '169.254.169.1234' is not an IP"},
        {"[tenant_networks]\nnamespaces = 1\n", "bad.toml:2: unknown key 'namespaces'"},
        {"[tenant_networks]\nrouter_interfaces = \"qr-*-x\"\n",
         "bad.toml:2: tenant_networks.router_interfaces: 'qr-*-x': an interface name may hold"},
        {"[tenant_networks]\nrouter_interfaces = \"a-name-that-is-too-long\"\n",
         "bad.toml:2: tenant_networks.router_interfaces: 'a-name-that-is-too-long' is not an "
         "interface name"},
        {"[tenant_networks]\nrouter_port = 65536\n",
         "bad.toml:2: tenant_networks.router_port must be between 1 and 65535"},
        {"[tenant_networks]\nrouter_patterns = [\"qrouter-*\"]\naddresses = "
         "[\"fe80::a9fe:a9fe\"]\n",
         "bad.toml:1: tenant_networks.router_patterns: routers redirect IPv4 only"},
        {"[rate_limit]\nburst = 0\n", "bad.toml:2: rate_limit.burst must be between 1 and"},
        {"[rate_limit]\nkod = -2\n", "bad.toml:2: rate_limit.kod must be between -1 and 16"},
        {"[rate_limit]\ninterval = 0\n", "bad.toml:2: rate_limit.interval must be a number"},
        {"[rate_limit]\nenabled = \"yes\"\n",
         "bad.toml:2: rate_limit.enabled must be true or false"},
        {"[rate_limit]\nbuckets = 1\n", "bad.toml:2: unknown key 'buckets' in [rate_limit]"},
        {"[server]\nbatch_size = 0\n", "bad.toml:2: server.batch_size must be between 1 and 1024"},
        {"[server]\ninterleaved = 1\n", "bad.toml:2: server.interleaved must be true or false"},
        {"[server]\ninterleaved_records = 2\n",
         "bad.toml:2: server.interleaved_records must be between 4 and 16777216"},
        {"[server]\nreceive_buffer = -1\n",
         "bad.toml:2: server.receive_buffer must be between 0 and 1073741824"},
        {"[access]\nallow = [\"10.0.0.1/8\"]\n",
         "bad.toml:2: access.allow: '10.0.0.1/8': address has bits"},
        {"[access]\nallow = [\"10.0.0.0/8\"]\nkod = [\"10.0.0.0/8\"]\n",
         "bad.toml:3: access.kod: '10.0.0.0/8' is already listed as allow"},
        {"[access]\ndefault = \"deny\"\n", "bad.toml:2: access.default must be"},
        {"[access]\nblock = []\n", "bad.toml:2: unknown key 'block' in [access]"},
        {"[access]\nignore = \"10.0.0.0/8\"\n", "bad.toml:2: access.ignore must be an array"},
        {"[nonsense]\n", "bad.toml:1: unknown section [nonsense]"},
        {"server = 1\n", "bad.toml:1: 'server' must be a table"},
        {"[server\nlisten = 1\n", "bad.toml:1: "},
        {"[server]\nthreads = 1\nthreads = 2\n", "bad.toml:3: "},
    };
    for (const auto& bad : cases) {
        auto c = parse_config(bad.text, "bad.toml");
        ASSERT_FALSE(c) << bad.text;
        EXPECT_EQ(c.error().rfind(bad.expected, 0), 0U) << "got: " << c.error();
    }
}

TEST(Config, RateLimitKeys) {
    auto c = parse_config(
        "[rate_limit]\nenabled = false\ninterval = 0.5\nburst = 8\nleak = 3\nkod = -1\n"
        "table_size = 1024\nipv6_prefix = 56\n",
        "t.toml");
    ASSERT_TRUE(c) << c.error();
    EXPECT_FALSE(c->rate_limit.enabled);
    EXPECT_DOUBLE_EQ(c->rate_limit.interval_s, 0.5);
    EXPECT_EQ(c->rate_limit.burst, 8U);
    EXPECT_EQ(c->rate_limit.leak, 3);
    EXPECT_EQ(c->rate_limit.kod, -1);
    EXPECT_EQ(c->rate_limit.table_entries, 1024U);
    EXPECT_EQ(c->rate_limit.ipv6_prefix, 56);
    EXPECT_TRUE(default_config().rate_limit.enabled);
}

TEST(Config, TensOfThousandsOfAccessPrefixesAndADuplicateAmongThem) {
    std::string text = "[access]\nignore = [\n";
    for (int i = 0; i < 65536; ++i) {
        text += "\"10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".0/24\",\n";
    }
    auto c = parse_config(text + "]\n", "big.toml");
    ASSERT_TRUE(c) << c.error();
    EXPECT_EQ(c->access_rules.size(), 65536U);
    c = parse_config(text + "\"10.255.255.0/24\"]\n", "big.toml");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error(),
              "big.toml:65539: access.ignore: '10.255.255.0/24' is already listed as ignore");
}

TEST(Config, AccessKeys) {
    auto c = parse_config(
        "[access]\ndefault = \"ignore\"\nallow = [\"10.0.0.0/8\", \"fd00::/8\"]\n"
        "kod = [\"10.9.0.0/16\"]\n",
        "t.toml");
    ASSERT_TRUE(c) << c.error();
    EXPECT_EQ(c->access_default, proto::AccessAction::ignore);
    ASSERT_EQ(c->access_rules.size(), 3U);
    EXPECT_EQ(c->access_rules[2].action, proto::AccessAction::deny);
    EXPECT_TRUE(default_config().access_rules.empty());
    EXPECT_EQ(default_config().access_default, proto::AccessAction::allow);
}

TEST(Config, MissingFileIsAnError) {
    auto c = load_config_file("/nonexistent/cloudtimed.toml");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error(),
              "/nonexistent/cloudtimed.toml: cannot read config file: No such file or directory");
}

TEST(Config, LoadsAFile) {
    const std::string path = ::testing::TempDir() + "/cloudtime_config_test.toml";
    {
        std::ofstream out(path);
        out << "[server]\nlisten = [\"127.0.0.2:2000\"]\n";
    }
    auto c = load_config_file(path);
    std::remove(path.c_str());
    ASSERT_TRUE(c) << c.error();
    EXPECT_EQ(c->listen[0].to_string(), "127.0.0.2:2000");
}

TEST(Config, InterfacePatterns) {
    for (const char* good : {"qr-*", "qr-1234abcd-56", "eth0", "a*", "tap.v_1-*"}) {
        EXPECT_TRUE(check_interface_pattern(good)) << good;
    }
    // Empty, only a star, 16 characters, a star inside, quotes or spaces (they would leave
    // the nft string), a slash.
    for (const char* bad : {"", "*", "0123456789abcdef", "qr-*x", "qr\"", "q r", "qr/1"}) {
        EXPECT_FALSE(check_interface_pattern(bad)) << bad;
    }
    EXPECT_TRUE(check_interface_pattern("0123456789abcde"));  // 15: the kernel's limit
}

}  // namespace
}  // namespace cloudtime::config

namespace cloudtime::config {
namespace {

TEST(Config, NtsSection) {
    const Config defaults = default_config();
    EXPECT_FALSE(defaults.nts.enabled);
    EXPECT_EQ(defaults.nts.ke_port, 4460);
    EXPECT_EQ(defaults.nts.rotation_s, 86400);
    EXPECT_EQ(defaults.nts.key_file, "/var/lib/cloudtime/nts-keys");
    auto c = parse_config(R"([nts]
enabled = true
certificate = "/etc/cloudtime/nts.crt"
private_key = "/etc/cloudtime/nts.key"
ke_port = 14460
key_file = "/tmp/k"
rotation = 3600
ke_timeout_ms = 2000
)",
                          "t.toml");
    ASSERT_TRUE(c) << c.error();
    EXPECT_TRUE(c->nts.enabled);
    EXPECT_EQ(c->nts.ke_port, 14460);
    EXPECT_EQ(c->nts.rotation_s, 3600);
    EXPECT_EQ(c->nts.ke_timeout_ms, 2000U);
    const auto error_of = [](const std::string& text) {
        auto bad = parse_config(text, "t.toml");
        EXPECT_FALSE(bad);
        return bad ? std::string() : bad.error();
    };
    EXPECT_NE(error_of("[nts]\nenabled = true\n").find("nts.certificate"), std::string::npos);
    EXPECT_NE(error_of("[nts]\nrotation = 1\n").find("t.toml:2"), std::string::npos);
    // etcd without endpoints, another store, a certificate without its key.
    EXPECT_NE(error_of("[nts]\nkey_store = \"etcd\"\n").find("etcd_endpoints"), std::string::npos);
    EXPECT_NE(error_of("[nts]\nkey_store = \"consul\"\n").find("key_store"), std::string::npos);
    EXPECT_NE(error_of("[nts]\netcd_certificate = \"/c\"\n").find("etcd_private_key"),
              std::string::npos);
    EXPECT_NE(error_of("[nts]\netcd_key = \"\"\n").find("etcd_key"), std::string::npos);
    auto etcd = parse_config(R"([nts]
key_store = "etcd"
etcd_endpoints = ["https://10.0.0.1:2379", "https://10.0.0.2:2379"]
etcd_key = "/region1/nts"
etcd_ca = "/etc/cloudtime/etcd-ca.pem"
etcd_certificate = "/etc/cloudtime/etcd.crt"
etcd_private_key = "/etc/cloudtime/etcd.key"
etcd_timeout_ms = 1500
)",
                             "t.toml");
    ASSERT_TRUE(etcd) << etcd.error();
    EXPECT_EQ(etcd->nts.key_store, "etcd");
    EXPECT_EQ(etcd->nts.etcd_endpoints.size(), 2U);
    EXPECT_EQ(etcd->nts.etcd_key, "/region1/nts");
    EXPECT_EQ(etcd->nts.etcd_private_key, "/etc/cloudtime/etcd.key");
    EXPECT_EQ(etcd->nts.etcd_timeout_ms, 1500U);
    EXPECT_NE(error_of("[nts]\nkey_file = \"relative\"\n").find("absolute"), std::string::npos);
    EXPECT_NE(error_of("[nts]\nke_port = 0\n").find("ke_port"), std::string::npos);
    EXPECT_NE(error_of("[nts]\nsomething = 1\n").find("something"), std::string::npos);
}

}  // namespace
}  // namespace cloudtime::config
