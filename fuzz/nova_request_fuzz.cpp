// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the vendordata endpoint's reading of a request body (anything can POST to
// it) and the policy resolved from what it found.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cloud/nova_request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace c = cloudtime::cloud;
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    const auto facts = c::parse_nova_request(body);
    if (!facts) {
        if (facts.error().empty()) {
            std::abort();  // every refusal says why
        }
        return 0;
    }
    std::vector<c::PolicyRule> rules(1);
    rules[0].metadata = {{"tier", "gold"}};
    rules[0].change.ptp_kvm = false;
    const c::TimePolicy base{.enabled = true,
                             .servers = {"169.254.169.254"},
                             .ptp_kvm = true,
                             .strategy = c::Strategy::drop_in,
                             .install_client = false};
    const auto policy = c::resolve_policy(base, rules, *facts, true);
    if (policy.servers != base.servers || policy.strategy != base.strategy) {
        std::abort();  // nothing in a request may change what the operator decided alone
    }
    return 0;
}
