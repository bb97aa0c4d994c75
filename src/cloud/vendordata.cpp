// SPDX-License-Identifier: Apache-2.0
#include "cloud/vendordata.hpp"

#include <fmt/format.h>

#include "util/strings.hpp"

namespace cloudtime::cloud {

namespace {
std::string cloud_config(const TimePolicy& policy) {
    std::string text;
    if (policy.strategy == Strategy::cloud_init_ntp) {
        text += "ntp:\n  enabled: true\n  servers:\n";
        for (const auto& server : policy.servers) {
            text += fmt::format("    - \"{}\"\n", server);
        }
    }
    if (policy.install_client && policy.strategy == Strategy::drop_in) {
        text += "packages:\n  - chrony\n";
    }
    if (text.empty()) {
        return text;
    }
    return fmt::format("#cloud-config\n# NTP from the cloud (cloudtime vendordata, strategy {})\n",
                       strategy_name(policy.strategy)) +
           text;
}

std::string script(const TimePolicy& policy) {
    const bool sources = policy.strategy == Strategy::drop_in && !policy.servers.empty();
    if (!sources && !policy.ptp_kvm) {
        return {};
    }
    return fmt::format(
               "#!/bin/sh\n# cloudtime vendordata: NTP from the cloud, without changing the "
               "image\nCLOUDTIME_SERVERS=\"{}\"\nCLOUDTIME_SOURCES={}\nCLOUDTIME_PTP_KVM={}\n"
               "CLOUDTIME_XLEAVE={}\nCLOUDTIME_NTS={}\nCLOUDTIME_NTS_CA='{}'\n",
               join(policy.servers, " "), sources ? "yes" : "no", policy.ptp_kvm ? "yes" : "no",
               policy.xleave ? "yes" : "no", policy.nts ? "yes" : "no",
               policy.nts ? policy.nts_ca : std::string()) +
           std::string(time_setup_script_body());
}
}  // namespace

Vendordata render_vendordata(const TimePolicy& policy) {
    if (!policy.enabled) {
        return {};
    }
    return {cloud_config(policy), script(policy)};
}

nlohmann::json vendordata_value(const Vendordata& vendordata) {
    nlohmann::json parts = nlohmann::json::array();
    for (const auto* part : {&vendordata.cloud_config, &vendordata.script}) {
        if (!part->empty()) {
            parts.push_back(*part);
        }
    }
    if (parts.empty()) {
        return nullptr;
    }
    return parts.size() == 1 ? parts[0] : parts;
}

nlohmann::json vendordata_document(const Vendordata& vendordata) {
    return {{"cloud-init", vendordata_value(vendordata)}};
}

Delivery deliver(const TimePolicy& base, const std::vector<PolicyRule>& rules,
                 bool honour_instance_keys, const InstanceFacts& instance) {
    Delivery d;
    d.policy = resolve_policy(base, rules, instance, honour_instance_keys);
    d.rules_matched = matching_rules(rules, instance);
    d.vendordata = render_vendordata(d.policy);
    return d;
}

}  // namespace cloudtime::cloud
