// SPDX-License-Identifier: Apache-2.0
#include "cloud/vendordata.hpp"

#include <gtest/gtest.h>

#include "cloud/config_drive.hpp"
#include "cloud/dhcp_option.hpp"
#include "cloud/nova_request.hpp"

namespace cloudtime::cloud {
namespace {

TimePolicy policy(Strategy strategy, bool ptp, bool install = false) {
    return {.enabled = true,
            .servers = {"169.254.169.254", "ntp.example.net"},
            .ptp_kvm = ptp,
            .strategy = strategy,
            .install_client = install};
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST(Vendordata, DropInIsOneShellPart) {
    const auto v = render_vendordata(policy(Strategy::drop_in, true));
    EXPECT_TRUE(v.cloud_config.empty());
    ASSERT_EQ(v.script.rfind("#!/bin/sh\n", 0), 0U);
    EXPECT_TRUE(contains(v.script, "CLOUDTIME_SERVERS=\"169.254.169.254 ntp.example.net\"\n"));
    EXPECT_TRUE(contains(v.script, "CLOUDTIME_SOURCES=yes\n"));
    EXPECT_TRUE(contains(v.script, "CLOUDTIME_PTP_KVM=yes\n"));
    EXPECT_TRUE(contains(v.script, "CLOUDTIME_XLEAVE=yes\n"));  // the default
    EXPECT_TRUE(contains(v.script, std::string(time_setup_script_body())));
    const auto value = vendordata_value(v);
    ASSERT_TRUE(value.is_string());  // cloud-init: a string or a list, never an object
    EXPECT_EQ(value.get<std::string>(), v.script);
    EXPECT_EQ(vendordata_document(v), (nlohmann::json{{"cloud-init", v.script}}));
}

TEST(Vendordata, InstallingTheClientAddsACloudConfigPart) {
    const auto v = render_vendordata(policy(Strategy::drop_in, false, true));
    EXPECT_EQ(v.cloud_config,
              "#cloud-config\n# NTP from the cloud (cloudtime vendordata, strategy drop-in)\n"
              "packages:\n  - chrony\n");
    EXPECT_TRUE(contains(v.script, "CLOUDTIME_PTP_KVM=no\n"));
    const auto value = vendordata_value(v);
    ASSERT_TRUE(value.is_array());
    EXPECT_EQ(value, (nlohmann::json{v.cloud_config, v.script}));
}

TEST(Vendordata, CloudInitNtpStrategy) {
    auto v = render_vendordata(policy(Strategy::cloud_init_ntp, false));
    EXPECT_EQ(v.cloud_config,
              "#cloud-config\n# NTP from the cloud (cloudtime vendordata, strategy "
              "cloud-init-ntp)\nntp:\n  enabled: true\n  servers:\n    - \"169.254.169.254\"\n"
              "    - \"ntp.example.net\"\n");
    EXPECT_TRUE(v.script.empty());  // no PTP clock: nothing for the shell part to do
    EXPECT_TRUE(vendordata_value(v).is_string());
    // With the PTP clock, the shell part does that alone (the ntp module set the servers).
    v = render_vendordata(policy(Strategy::cloud_init_ntp, true));
    EXPECT_TRUE(contains(v.script, "CLOUDTIME_SOURCES=no\n"));
    EXPECT_TRUE(contains(v.script, "CLOUDTIME_PTP_KVM=yes\n"));
}

TEST(Vendordata, XleaveCanBeTurnedOff) {
    auto p = policy(Strategy::drop_in, false);
    p.xleave = false;
    EXPECT_TRUE(contains(render_vendordata(p).script, "CLOUDTIME_XLEAVE=no\n"));
}

TEST(Vendordata, OptedOutIsNull) {
    auto p = policy(Strategy::drop_in, true);
    p.enabled = false;
    const auto v = render_vendordata(p);
    EXPECT_TRUE(vendordata_value(v).is_null());
    EXPECT_EQ(vendordata_document(v).dump(), R"({"cloud-init":null})");
}

TEST(NovaRequest, TheBodyNovaSends) {
    // nova/api/metadata/vendordata_dynamic.py
    const auto facts = parse_nova_request(R"({"project-id": "039d104b7a5c4631b4ba6524d0b9e981",
        "instance-id": "7a1fd5b8-1a11-4b0c-a7e5-b7f0dc5df6d5", "image-id": "d1e3b5ab",
        "user-data": null, "hostname": "vm-1", "metadata": {"cloudtime_ptp": "off", "n": 1},
        "boot-roles": "member,reader", "future-key": [1]})");
    ASSERT_TRUE(facts) << facts.error();
    EXPECT_EQ(facts->project_id, "039d104b7a5c4631b4ba6524d0b9e981");
    EXPECT_EQ(facts->instance_id, "7a1fd5b8-1a11-4b0c-a7e5-b7f0dc5df6d5");
    EXPECT_EQ(facts->image_id, "d1e3b5ab");
    EXPECT_EQ(facts->hostname, "vm-1");
    EXPECT_EQ(facts->metadata, (std::map<std::string, std::string>{{"cloudtime_ptp", "off"}}));
    EXPECT_TRUE(parse_nova_request("{}"));
}

TEST(NovaRequest, BadBodiesSayWhy) {
    const std::pair<const char*, const char*> cases[] = {
        {"", "the body is not JSON"},
        {"{\"project-id\": ", "the body is not JSON"},
        {"[]", "the body must be a JSON object"},
        {"\"x\"", "the body must be a JSON object"},
        {R"({"project-id": 5})", "project-id must be a string"},
        {R"({"metadata": "a=b"})", "metadata must be an object"},
    };
    for (const auto& [body, why] : cases) {
        const auto r = parse_nova_request(body);
        ASSERT_FALSE(r) << body;
        EXPECT_EQ(r.error(), why) << body;
    }
}

TEST(ConfigDrive, FilesAsNovaLaysThemOut) {
    const auto v = render_vendordata(policy(Strategy::drop_in, true));
    ConfigDriveInstance instance{.uuid = "u-1",
                                 .hostname = "vm",
                                 .project_id = "p",
                                 .user_data = "#cloud-config\n",
                                 .network = StaticIpv4{.mac = "52:54:00:00:00:01",
                                                       .address = "169.254.100.10",
                                                       .prefix_length = 16,
                                                       .gateway = ""},
                                 .public_key = std::nullopt};
    const auto files = config_drive_files(instance, v);
    ASSERT_EQ(files.size(), 5U);
    const auto meta = nlohmann::json::parse(files.at("openstack/latest/meta_data.json"));
    EXPECT_EQ(meta["uuid"], "u-1");
    EXPECT_EQ(meta["hostname"], "vm");
    EXPECT_EQ(nlohmann::json::parse(files.at("openstack/latest/vendor_data2.json")),
              vendordata_document(v));
    EXPECT_EQ(files.at("openstack/latest/vendor_data.json"),
              files.at("openstack/latest/vendor_data2.json"));
    EXPECT_EQ(files.at("openstack/latest/user_data"), "#cloud-config\n");
    const auto net = nlohmann::json::parse(files.at("openstack/latest/network_data.json"));
    EXPECT_EQ(net["links"][0]["ethernet_mac_address"], "52:54:00:00:00:01");
    EXPECT_EQ(net["networks"][0]["netmask"], "255.255.0.0");
    EXPECT_EQ(net["networks"][0]["link"], net["links"][0]["id"]);
    instance.network.reset();
    instance.user_data.reset();
    const auto minimal = config_drive_files(instance, v);
    EXPECT_EQ(minimal.count("openstack/latest/user_data"), 0U);
    EXPECT_EQ(nlohmann::json::parse(minimal.at("openstack/latest/network_data.json")),
              (nlohmann::json{{"links", nlohmann::json::array()},
                              {"networks", nlohmann::json::array()},
                              {"services", nlohmann::json::array()}}));
}

TEST(ConfigDrive, PublicKeysAsNovaWritesThem) {
    const std::string key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0= test@host";
    ASSERT_EQ(*parse_public_key(key + "\n"), key);
    const ConfigDriveInstance instance{.uuid = "u",
                                       .hostname = "vm",
                                       .project_id = "p",
                                       .user_data = std::nullopt,
                                       .network = std::nullopt,
                                       .public_key = key};
    const auto meta = nlohmann::json::parse(
        config_drive_files(instance, render_vendordata(policy(Strategy::drop_in, true)))
            .at("openstack/latest/meta_data.json"));
    EXPECT_EQ(meta["public_keys"]["default"], key);
    EXPECT_EQ(meta["keys"][0]["type"], "ssh");
    EXPECT_EQ(meta["keys"][0]["data"], key);
    const std::pair<const char*, const char*> bad[] = {
        {"", "'' is not an OpenSSH public key type"},
        {"-----BEGIN OPENSSH PRIVATE KEY-----", "'-----BEGIN' is not an OpenSSH public key type"},
        {"ssh-ed25519", "the key after its type is missing or not base64"},
        {"ssh-ed25519 AAAA$$ x", "the key after its type is missing or not base64"},
        {"ssh-ed25519 AAAA\nssh-rsa AAAA", "holds more than one line"},
    };
    for (const auto& [text, why] : bad) {
        const auto r = parse_public_key(text);
        ASSERT_FALSE(r) << text;
        EXPECT_EQ(r.error().rfind(why, 0), 0U) << r.error();
    }
}

TEST(ConfigDrive, AddressesAndMacs) {
    EXPECT_EQ(*parse_ipv4_cidr("169.254.100.10/16"),
              (std::pair<std::string, int>{"169.254.100.10", 16}));
    EXPECT_EQ(parse_ipv4_cidr("10.0.0.1")->second, 32);
    for (const char* bad : {"10.0.0/8", "10.0.0.1/33", "10.0.0.1/", "10.0.0.1/a", "::1/64"}) {
        EXPECT_FALSE(parse_ipv4_cidr(bad)) << bad;
    }
    EXPECT_TRUE(check_mac("52:54:00:AB:cd:01"));
    for (const char* bad : {"52:54:00:ab:cd", "52-54-00-ab-cd-01", "52:54:00:ab:cd:0g"}) {
        EXPECT_FALSE(check_mac(bad)) << bad;
    }
}

TEST(DhcpOption, EachBackend) {
    const std::vector<std::string> servers = {"169.254.169.254", "ntp.example.net",
                                              "fe80::a9fe:a9fe", "10.1.2.3"};
    auto ovs = dhcp_option_snippet(DhcpBackend::ovs, DhcpScope::deployment, servers);
    ASSERT_TRUE(ovs);
    EXPECT_TRUE(contains(ovs->text, "\ndhcp-option=option:ntp-server,169.254.169.254,10.1.2.3\n"));
    EXPECT_EQ(ovs->warnings.size(), 3U);  // a name, an IPv6 address, DHCPv6
    EXPECT_TRUE(contains(ovs->warnings[2], "DHCPv4's option 42"));
    auto ovn = dhcp_option_snippet(DhcpBackend::ovn, DhcpScope::deployment, servers);
    ASSERT_TRUE(ovn);
    EXPECT_TRUE(
        contains(ovn->text, "[ovn]\novn_dhcp4_global_options = ntp_server:169.254.169.254\n"));
    EXPECT_TRUE(contains(ovn->warnings[2], "10.1.2.3 left out"));
    EXPECT_TRUE(contains(ovn->warnings[3], "OVN's DHCPv6"));
    for (auto backend : {DhcpBackend::ovn, DhcpBackend::ovs}) {
        auto port = dhcp_option_snippet(backend, DhcpScope::one_port, servers);
        ASSERT_TRUE(port);
        EXPECT_TRUE(contains(port->text,
                             "openstack port set --extra-dhcp-option "
                             "name=ntp-server,value=169.254.169.254,ip-version=4 PORT\n"));
    }
    EXPECT_FALSE(dhcp_option_snippet(DhcpBackend::ovs, DhcpScope::deployment, {"ntp.example.net"}));
    EXPECT_EQ(parse_dhcp_backend("ovn"), DhcpBackend::ovn);
    EXPECT_EQ(parse_dhcp_backend("ovs"), DhcpBackend::ovs);
    EXPECT_FALSE(parse_dhcp_backend("dnsmasq"));
    EXPECT_FALSE(parse_dhcp_backend("neutron"));
}

}  // namespace
}  // namespace cloudtime::cloud
