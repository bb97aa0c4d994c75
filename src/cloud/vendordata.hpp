// SPDX-License-Identifier: Apache-2.0
// The vendordata cloudtime gives a VM, rendered from its resolved TimePolicy: what Nova's
// DynamicJSON provider answers, what the StaticJSON file and the config drive hold.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cloud/time_policy.hpp"

namespace cloudtime::cloud {

// The parts cloud-init will run; either may be empty.
struct Vendordata {
    std::string cloud_config;  // "#cloud-config ...": the ntp module, packages
    std::string script;        // "#!/bin/sh ...": the drop-in files, ptp_kvm
};

Vendordata render_vendordata(const TimePolicy& policy);

// What one instance is told, and under which policy.
struct Delivery {
    TimePolicy policy;
    Vendordata vendordata;
    std::vector<std::size_t> rules_matched;  // indexes in config order
};

// The one delivery call that the vendordata endpoint, `cloudtime vendordata` and
// validate-image share: the operator's base policy, the rules that match the instance (in
// order), its own cloudtime_* metadata when honoured, rendered.
Delivery deliver(const TimePolicy& base, const std::vector<PolicyRule>& rules,
                 bool honour_instance_keys, const InstanceFacts& instance);

// The value cloud-init reads under the key "cloud-init": one part as a string, two as a list
// of strings (cloud-init runs each as a user-data part), none (opted out) as null.
nlohmann::json vendordata_value(const Vendordata& vendordata);

// The whole vendor_data.json / vendor_data2.json object: {"cloud-init": value}.
nlohmann::json vendordata_document(const Vendordata& vendordata);

// The shell part's body, without the settings (embedded from cloud/time_setup.sh).
std::string_view time_setup_script_body();

}  // namespace cloudtime::cloud
