// SPDX-License-Identifier: Apache-2.0
#include "proto/access_list.hpp"

#include <algorithm>

namespace cloudtime::proto {

const char* access_action_name(AccessAction action) {
    switch (action) {
        case AccessAction::allow:
            return "allow";
        case AccessAction::ignore:
            return "ignore";
        case AccessAction::deny:
            return "kod";  // the config's name: answered with a KoD DENY
    }
    return "unknown";
}

Address16 ipv4_mapped(std::uint32_t address) {
    Address16 out{};
    out[10] = 0xFF;
    out[11] = 0xFF;
    out[12] = static_cast<std::uint8_t>(address >> 24U);
    out[13] = static_cast<std::uint8_t>(address >> 16U);
    out[14] = static_cast<std::uint8_t>(address >> 8U);
    out[15] = static_cast<std::uint8_t>(address);
    return out;
}

bool prefix_contains(const Address16& prefix, std::uint8_t length, const Address16& address) {
    const std::size_t whole = length / 8U;
    if (!std::equal(prefix.begin(), prefix.begin() + static_cast<std::ptrdiff_t>(whole),
                    address.begin())) {
        return false;
    }
    const unsigned rest = length % 8U;
    if (rest == 0) {
        return true;
    }
    const auto mask = static_cast<std::uint8_t>(0xFFU << (8U - rest));
    return (prefix[whole] & mask) == (address[whole] & mask);
}

Address16 masked_prefix(const Address16& address, std::uint8_t length) {
    Address16 out{};
    const std::size_t whole = std::min<std::size_t>(length / 8U, out.size());
    std::copy_n(address.begin(), whole, out.begin());
    const unsigned rest = length % 8U;
    if (rest != 0 && whole < out.size()) {
        out[whole] = static_cast<std::uint8_t>(address[whole] & (0xFFU << (8U - rest)));
    }
    return out;
}

AccessList::AccessList(std::vector<AccessRule> rules, AccessAction default_action)
    : has_rules_(!rules.empty()), default_(default_action) {
    std::stable_sort(rules.begin(), rules.end(),
                     [](const AccessRule& a, const AccessRule& b) { return a.length > b.length; });
    for (const AccessRule& rule : rules) {
        if (tables_.empty() || tables_.back().length != rule.length) {
            tables_.push_back({rule.length, {}});
        }
        tables_.back().prefixes.emplace_back(masked_prefix(rule.prefix, rule.length), rule.action);
    }
    for (LengthTable& table : tables_) {
        // Stable: of two equal prefixes the one listed first decides, as before.
        std::stable_sort(table.prefixes.begin(), table.prefixes.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
    }
}

AccessAction AccessList::check(const Address16& source) const {
    for (const LengthTable& table : tables_) {
        const Address16 key = masked_prefix(source, table.length);
        const auto it = std::lower_bound(table.prefixes.begin(), table.prefixes.end(), key,
                                         [](const std::pair<Address16, AccessAction>& entry,
                                            const Address16& k) { return entry.first < k; });
        if (it != table.prefixes.end() && it->first == key) {
            return it->second;
        }
    }
    return default_;
}

}  // namespace cloudtime::proto
