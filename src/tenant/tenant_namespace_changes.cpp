// SPDX-License-Identifier: Apache-2.0
#include "tenant/tenant_namespace_changes.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "net/netns.hpp"
#include "net/nftables.hpp"

namespace cloudtime::server {

bool add_managed(const std::string& name, const TenantNetworkOptions& options,
                 const std::vector<sys::LocalAddress>& present, AddedAddresses& added) {
    const auto is_present = [&](const sys::SocketAddress& a) {
        return std::any_of(present.begin(), present.end(), [&](const auto& p) {
            return p.address.mapped_octets() == a.mapped_octets();
        });
    };
    // The interface of the metadata address (the port Neutron plugged into the namespace).
    unsigned ifindex = 0;
    for (const auto& p : present) {
        for (const auto& a : options.addresses) {
            if (ifindex == 0 && p.address.mapped_octets() == a.mapped_octets()) {
                ifindex = p.ifindex;
            }
        }
    }
    bool changed = false;
    for (const auto& managed : options.managed) {
        if (ifindex == 0 || is_present(managed)) {
            continue;
        }
        const std::uint8_t prefix = managed.is_ipv6() ? 128 : 32;
        if (auto s = sys::change_address(true, managed, prefix, ifindex); !s) {
            spdlog::warn("tenant network {}: {}", name, s.error());
            continue;
        }
        added.emplace_back(managed, ifindex);
        spdlog::info("tenant network {}: added {}/{}", name, managed.host_string(), prefix);
        changed = true;
    }
    return changed;
}

void reclaim_leftovers(const std::string& name, const TenantNetworkOptions& options,
                       AddedAddresses& added) {
    auto marked = sys::addresses_marked_ours();
    if (!marked) {
        spdlog::warn("tenant network {}: cannot list its addresses: {}", name, marked.error());
        return;
    }
    for (const auto& left : *marked) {
        const bool configured = std::any_of(
            options.managed.begin(), options.managed.end(),
            [&](const auto& m) { return m.mapped_octets() == left.address.mapped_octets(); });
        if (configured) {
            added.emplace_back(left.address, left.ifindex);
            spdlog::info("tenant network {}: {} was left by an earlier cloudtimed: ours again",
                         name, left.address.host_string());
        } else if (auto removed =
                       sys::change_address(false, left.address, left.prefix_length, left.ifindex);
                   removed) {
            spdlog::info("tenant network {}: removed {}/{}, left by an earlier cloudtimed", name,
                         left.address.host_string(), left.prefix_length);
        } else {
            spdlog::warn("tenant network {}: {}", name, removed.error());
        }
    }
}

void undo_changes(const std::string& name, const std::string& netns_dir,
                  const AddedAddresses& added, bool redirected) {
    if (added.empty() && !redirected) {
        return;
    }
    auto scope = sys::NamespaceScope::enter(netns_dir + "/" + name);
    if (!scope) {
        return;  // the namespace is gone, and its addresses and tables with it
    }
    if (redirected) {
        if (auto removed = sys::apply_nft(router_ruleset_removal()); !removed) {
            spdlog::warn("tenant network {}: {}", name, removed.error());
        } else {
            spdlog::info("tenant network {}: removed the nftables table '{}'", name, kRouterTable);
        }
    }
    remove_managed(name, added);
}

void remove_managed(const std::string& name, const AddedAddresses& added) {
    for (const auto& [address, ifindex] : added) {
        const std::uint8_t prefix = address.is_ipv6() ? 128 : 32;
        if (auto s = sys::change_address(false, address, prefix, ifindex); !s) {
            spdlog::warn("tenant network {}: {}", name, s.error());
        } else {
            spdlog::info("tenant network {}: removed {}/{}", name, address.host_string(), prefix);
        }
    }
}

}  // namespace cloudtime::server
