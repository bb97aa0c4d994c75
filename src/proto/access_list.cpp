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

AccessList::AccessList(std::vector<AccessRule> rules, AccessAction default_action)
    : rules_(std::move(rules)), default_(default_action) {
    std::stable_sort(rules_.begin(), rules_.end(),
                     [](const AccessRule& a, const AccessRule& b) { return a.length > b.length; });
}

AccessAction AccessList::check(const Address16& source) const {
    for (const AccessRule& rule : rules_) {
        if (prefix_contains(rule.prefix, rule.length, source)) {
            return rule.action;
        }
    }
    return default_;
}

}  // namespace cloudtime::proto
