// SPDX-License-Identifier: Apache-2.0
#include "cloud/time_policy.hpp"

#include <gtest/gtest.h>

namespace cloudtime::cloud {
namespace {

TimePolicy base() {
    return {.enabled = true,
            .servers = {"169.254.169.254"},
            .ptp_kvm = true,
            .strategy = Strategy::drop_in,
            .install_client = false};
}

TEST(TimePolicy, MatchingRulesApplyInOrderLaterWins) {
    std::vector<PolicyRule> rules(3);
    rules[0].image_ids = {"windows"};
    rules[0].change.ptp_kvm = false;
    rules[1].project_ids = {"p1", "p2"};
    rules[1].change.servers = std::vector<std::string>{"10.0.0.1"};
    rules[1].change.strategy = Strategy::cloud_init_ntp;
    rules[2].project_ids = {"p2"};
    rules[2].metadata = {{"tier", "gold"}};
    rules[2].change.strategy = Strategy::drop_in;

    InstanceFacts vm;
    vm.project_id = "p2";
    vm.image_id = "windows";
    vm.metadata = {{"tier", "gold"}};
    const auto p = resolve_policy(base(), rules, vm, true);
    EXPECT_FALSE(p.ptp_kvm);
    EXPECT_EQ(p.servers, std::vector<std::string>{"10.0.0.1"});
    EXPECT_EQ(p.strategy, Strategy::drop_in);  // rule 2 after rule 1

    vm.metadata["tier"] = "silver";  // rule 2 no longer matches; unknown image: rule 0 neither
    vm.image_id = "debian";
    const auto q = resolve_policy(base(), rules, vm, true);
    EXPECT_TRUE(q.ptp_kvm);
    EXPECT_EQ(q.strategy, Strategy::cloud_init_ntp);

    InstanceFacts stranger;
    stranger.project_id = "p3";
    const auto other = resolve_policy(base(), rules, stranger, true);
    EXPECT_EQ(other.servers, base().servers);
    EXPECT_EQ(other.strategy, Strategy::drop_in);
}

TEST(TimePolicy, InstanceKeysWhenHonoured) {
    InstanceFacts vm;
    vm.metadata = {{"cloudtime_ntp", "off"}, {"cloudtime_ptp", "off"}};
    auto p = resolve_policy(base(), {}, vm, true);
    EXPECT_FALSE(p.enabled);
    EXPECT_FALSE(p.ptp_kvm);
    p = resolve_policy(base(), {}, vm, false);
    EXPECT_TRUE(p.enabled);
    EXPECT_TRUE(p.ptp_kvm);
    // A rule that turns ptp off for an image; the tenant may turn it on again.
    std::vector<PolicyRule> rules(1);
    rules[0].change.ptp_kvm = false;
    vm.metadata = {{"cloudtime_ptp", "on"}, {"cloudtime_ntp", "maybe"}};
    p = resolve_policy(base(), rules, vm, true);
    EXPECT_TRUE(p.ptp_kvm);
    EXPECT_TRUE(p.enabled);  // an unknown value is as if unset
}

TEST(TimePolicy, ServerNames) {
    for (const char* good : {"169.254.169.254", "fe80::a9fe:a9fe", "fd00:ec2::123",
                             "ntp.example.net", "time-1.cloud", "a"}) {
        EXPECT_TRUE(check_server_name(good)) << good;
    }
    for (const char* bad : {"", "ntp server", "a..b", "-a.b", "a-.b", "ntp.example.net.",
                            "x;reboot", "\"q\"", "$(id)", "fe80::1%eth0"}) {
        EXPECT_FALSE(check_server_name(bad)) << bad;
    }
}

TEST(TimePolicy, StrategyNames) {
    EXPECT_EQ(parse_strategy("drop-in"), Strategy::drop_in);
    EXPECT_EQ(parse_strategy("cloud-init-ntp"), Strategy::cloud_init_ntp);
    EXPECT_FALSE(parse_strategy("ntp"));
    EXPECT_EQ(strategy_name(Strategy::cloud_init_ntp), "cloud-init-ntp");
}

}  // namespace
}  // namespace cloudtime::cloud
