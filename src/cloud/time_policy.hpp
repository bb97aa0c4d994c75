// SPDX-License-Identifier: Apache-2.0
// What a VM is told about time: the cloud's policy, refined per instance by the operator's
// rules (project, image, instance metadata) and by the instance's own opt-outs.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cloud/instance_metadata.hpp"
#include "util/expected.hpp"

namespace cloudtime::cloud {

enum class Strategy {
    drop_in,         // files the distribution's client already reads; its config left alone
    cloud_init_ntp,  // cloud-init's own ntp module (rewrites the client's config)
};
std::string_view strategy_name(Strategy s);
std::optional<Strategy> parse_strategy(std::string_view text);

struct TimePolicy {
    bool enabled = true;               // false: the instance gets no time vendordata
    std::vector<std::string> servers;  // NTP servers: addresses or names
    bool ptp_kvm = true;               // load ptp_kvm and use /dev/ptp_kvm where it appears
    Strategy strategy = Strategy::drop_in;
    bool install_client = false;  // install chrony where the image has no NTP client
    // chrony's server lines ask for interleaved mode (`xleave`): the exact transmit times of
    // a cloudtimed; a server without it answers in basic mode and chrony carries on.
    bool xleave = true;
    // chrony's server lines ask for NTS (`nts`), trusting `nts_ca` (PEM certificates, written
    // beside the drop-ins as `ntstrustedcerts`; empty: the image's own store). Drop-in
    // strategy only: cloud-init's ntp module has no NTS, nor has systemd-timesyncd.
    bool nts = false;
    std::string nts_ca{};

    friend bool operator==(const TimePolicy&, const TimePolicy&) = default;
};

// What a rule changes; unset fields keep the value from before.
struct PolicyChange {
    std::optional<bool> enabled;
    std::optional<std::vector<std::string>> servers;
    std::optional<bool> ptp_kvm;
    std::optional<Strategy> strategy;
    std::optional<bool> install_client;
    std::optional<bool> xleave;
    std::optional<bool> nts;
    std::optional<std::string> nts_ca;

    friend bool operator==(const PolicyChange&, const PolicyChange&) = default;
};

void apply_change(const PolicyChange& change, TimePolicy& policy);

// A rule applies when every condition it sets holds: the project is one of project_ids, the
// image one of image_ids, and each metadata key has the value given.
struct PolicyRule {
    std::vector<std::string> project_ids;
    std::vector<std::string> image_ids;
    std::map<std::string, std::string> metadata;
    PolicyChange change;

    friend bool operator==(const PolicyRule&, const PolicyRule&) = default;
};

// What Nova tells a DynamicJSON vendordata provider about the instance.
struct InstanceFacts {
    std::string project_id;
    std::string instance_id;
    std::string image_id;
    std::string hostname;
    std::map<std::string, std::string> metadata;
};

// The indexes (0-based, in config order) of the rules that apply to `instance`.
std::vector<std::size_t> matching_rules(const std::vector<PolicyRule>& rules,
                                        const InstanceFacts& instance);

// The base policy, then every matching rule in order (a later one wins), then, if
// `honour_instance_keys`, the instance's own cloudtime_* metadata.
TimePolicy resolve_policy(const TimePolicy& base, const std::vector<PolicyRule>& rules,
                          const InstanceFacts& instance, bool honour_instance_keys);

// An NTP server as a VM's client will be told it: an IPv4 or IPv6 address or a DNS name.
Status check_server_name(std::string_view server);

}  // namespace cloudtime::cloud
