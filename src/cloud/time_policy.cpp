// SPDX-License-Identifier: Apache-2.0
#include "cloud/time_policy.hpp"

#include <arpa/inet.h>

#include <algorithm>

namespace cloudtime::cloud {

std::string_view strategy_name(Strategy s) {
    return s == Strategy::drop_in ? "drop-in" : "cloud-init-ntp";
}

std::optional<Strategy> parse_strategy(std::string_view text) {
    if (text == "drop-in") {
        return Strategy::drop_in;
    }
    if (text == "cloud-init-ntp") {
        return Strategy::cloud_init_ntp;
    }
    return std::nullopt;
}

namespace {
bool listed(const std::vector<std::string>& list, const std::string& value) {
    return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
}

bool applies(const PolicyRule& rule, const InstanceFacts& instance) {
    if (!listed(rule.project_ids, instance.project_id) ||
        !listed(rule.image_ids, instance.image_id)) {
        return false;
    }
    return std::all_of(rule.metadata.begin(), rule.metadata.end(), [&](const auto& kv) {
        const auto it = instance.metadata.find(kv.first);
        return it != instance.metadata.end() && it->second == kv.second;
    });
}

}  // namespace

void apply_change(const PolicyChange& change, TimePolicy& policy) {
    policy.enabled = change.enabled.value_or(policy.enabled);
    policy.servers = change.servers.value_or(policy.servers);
    policy.ptp_kvm = change.ptp_kvm.value_or(policy.ptp_kvm);
    policy.strategy = change.strategy.value_or(policy.strategy);
    policy.install_client = change.install_client.value_or(policy.install_client);
    policy.xleave = change.xleave.value_or(policy.xleave);
    policy.nts = change.nts.value_or(policy.nts);
    policy.nts_ca = change.nts_ca.value_or(policy.nts_ca);
}

std::vector<std::size_t> matching_rules(const std::vector<PolicyRule>& rules,
                                        const InstanceFacts& instance) {
    std::vector<std::size_t> matched;
    for (std::size_t i = 0; i < rules.size(); ++i) {
        if (applies(rules[i], instance)) {
            matched.push_back(i);
        }
    }
    return matched;
}

TimePolicy resolve_policy(const TimePolicy& base, const std::vector<PolicyRule>& rules,
                          const InstanceFacts& instance, bool honour_instance_keys) {
    TimePolicy policy = base;
    for (const std::size_t i : matching_rules(rules, instance)) {
        apply_change(rules[i].change, policy);
    }
    if (honour_instance_keys) {
        if (opts_out(instance.metadata)) {
            policy.enabled = false;
        }
        policy.ptp_kvm = on_off(instance.metadata, kPtpKey).value_or(policy.ptp_kvm);
    }
    return policy;
}

Status check_server_name(std::string_view server) {
    const std::string text(server);
    in6_addr v6{};
    if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
        return Done{};
    }
    // A DNS name (an IPv4 address is one too, syntactically): labels of letters, digits and
    // '-', not starting or ending with '-', at most 63 octets, 253 in all.
    if (text.empty() || text.size() > 253) {
        return Error{"'" + text + "' is not an address or a DNS name"};
    }
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = std::min(text.find('.', start), text.size());
        const std::string_view label(text.data() + start, end - start);
        const bool valid = !label.empty() && label.size() <= 63 && label.front() != '-' &&
                           label.back() != '-' &&
                           std::all_of(label.begin(), label.end(), [](char c) {
                               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                      (c >= '0' && c <= '9') || c == '-';
                           });
        if (!valid) {
            return Error{"'" + text + "' is not an address or a DNS name"};
        }
        start = end + 1;
    }
    return Done{};
}

}  // namespace cloudtime::cloud
