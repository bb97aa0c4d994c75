// SPDX-License-Identifier: Apache-2.0
// Network namespaces: entering one from the current thread and coming back (setns is per
// thread; only a dedicated thread may do this), and the addresses found inside.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "net/socket_address.hpp"
#include "sys/fd.hpp"
#include "util/expected.hpp"

namespace cloudtime::sys {

// While alive, the calling thread is inside the namespace at `path` (a file under /run/netns);
// the destructor returns it to the namespace it came from.
class NamespaceScope {
  public:
    static Expected<NamespaceScope> enter(const std::string& path);
    NamespaceScope(NamespaceScope&&) noexcept = default;
    NamespaceScope& operator=(NamespaceScope&&) = delete;
    NamespaceScope(const NamespaceScope&) = delete;
    NamespaceScope& operator=(const NamespaceScope&) = delete;
    ~NamespaceScope();

  private:
    explicit NamespaceScope(UniqueFd home) : home_(std::move(home)) {}
    UniqueFd home_;
};

// A socket that becomes readable when an address or a link of the current namespace changes
// (rtnetlink), including an IPv6 address finishing duplicate address detection; it stays
// tied to the namespace it was opened in. drain_events() empties it.
Expected<UniqueFd> open_address_events();
void drain_events(int fd);

struct LocalAddress {
    SocketAddress address;  // with the wanted port; a link-local IPv6 one with its scope
    unsigned ifindex = 0;   // the interface that holds it
};

// Which of `wanted` are configured on an interface of the current namespace, ready to bind.
Expected<std::vector<LocalAddress>> find_local_addresses(const std::vector<SocketAddress>& wanted);

// Adds or removes `address`/`prefix_length` on interface `ifindex` of the current namespace
// (rtnetlink; IPv6 without duplicate address detection). Adding an address that is there
// already is an error saying so ("File exists").
// Added addresses carry this protocol (IFA_PROTO, Linux 6.1+): after a crash, the next start
// finds and removes what it had added, and nothing else.
inline constexpr std::uint8_t kAddressProtocol = 0xc7;
Status change_address(bool add, const SocketAddress& address, std::uint8_t prefix_length,
                      unsigned ifindex);

// The addresses of the current namespace that carry kAddressProtocol: ours.
struct MarkedAddress {
    SocketAddress address;
    std::uint8_t prefix_length = 0;
    unsigned ifindex = 0;
};
Expected<std::vector<MarkedAddress>> addresses_marked_ours();

}  // namespace cloudtime::sys
