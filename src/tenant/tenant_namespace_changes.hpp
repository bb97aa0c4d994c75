// SPDX-License-Identifier: Apache-2.0
// What cloudtimed changes inside a tenant namespace besides its sockets, and undoes: the
// managed addresses it adds (marked as its own), those an earlier, killed cloudtimed left, and
// a router namespace's nftables table. Run on the follower thread (server/tenant_networks).
#pragma once

#include <string>
#include <vector>

#include "net/netns.hpp"
#include "tenant/tenant_networks.hpp"

namespace cloudtime::server {

// Inside the namespace: adds the managed addresses not there yet on the interface of a found
// metadata address, appending them to `added`; returns whether any was added.
bool add_managed(const std::string& name, const TenantNetworkOptions& options,
                 const std::vector<sys::LocalAddress>& present, AddedAddresses& added);
// Inside the namespace, the first time: managed addresses an earlier cloudtimed added and
// could not remove (killed): those still configured become ours (in `added`), the others go.
void reclaim_leftovers(const std::string& name, const TenantNetworkOptions& options,
                       AddedAddresses& added);
// Enters the namespace again: removes the managed addresses added and our nftables table.
void undo_changes(const std::string& name, const std::string& netns_dir,
                  const AddedAddresses& added, bool redirected);
// Inside the namespace: removes these managed addresses.
void remove_managed(const std::string& name, const AddedAddresses& added);

}  // namespace cloudtime::server
