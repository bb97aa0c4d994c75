// SPDX-License-Identifier: Apache-2.0
// Allow and deny lists by address prefix. Addresses are 16 octets: IPv6 as is, IPv4 as
// IPv4-mapped IPv6 (::ffff:a.b.c.d), so one list serves both families. The longest matching
// prefix decides; a source no rule matches gets the default action.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace cloudtime::proto {

using Address16 = std::array<std::uint8_t, 16>;

enum class AccessAction : std::uint8_t {
    allow,   // served (and rate limited)
    ignore,  // never answered, silently
    deny,    // answered with a KoD DENY (valid client requests only, still rate limited)
};

const char* access_action_name(AccessAction action);

struct AccessRule {
    Address16 prefix{};
    std::uint8_t length = 0;  // prefix length in the 128-bit space (IPv4 /n is /96+n)
    AccessAction action = AccessAction::allow;
};

Address16 ipv4_mapped(std::uint32_t address);

class AccessList {
  public:
    AccessList() = default;
    AccessList(std::vector<AccessRule> rules, AccessAction default_action);

    bool empty() const { return !has_rules_ && default_ == AccessAction::allow; }
    AccessAction check(const Address16& source) const;

  private:
    // One table per prefix length, longest first, each sorted by its masked prefixes: a
    // lookup masks the source once per length and searches (O(lengths x log n), not O(n)).
    struct LengthTable {
        std::uint8_t length = 0;
        std::vector<std::pair<Address16, AccessAction>> prefixes;
    };
    std::vector<LengthTable> tables_;
    bool has_rules_ = false;
    AccessAction default_ = AccessAction::allow;
};

// `address` with every bit past `length` cleared: the prefix it names.
Address16 masked_prefix(const Address16& address, std::uint8_t length);

// True when `address` lies in prefix/length.
bool prefix_contains(const Address16& prefix, std::uint8_t length, const Address16& address);

}  // namespace cloudtime::proto
