// SPDX-License-Identifier: Apache-2.0
// IPv4 and IPv6 socket addresses as values, and the "ADDR:PORT" / "[ADDR]:PORT" notation
// that the config file and the command line use.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/expected.hpp"

namespace cloudtime::sys {

class SocketAddress {
  public:
    SocketAddress() = default;
    static std::optional<SocketAddress> from_sockaddr(const sockaddr* sa, socklen_t len);
    // An IPv6 address from its 16 octets (network order), without a scope.
    static SocketAddress from_ipv6_octets(const std::array<std::uint8_t, 16>& octets,
                                          std::uint16_t port);

    const sockaddr* sockaddr_ptr() const { return reinterpret_cast<const sockaddr*>(&storage_); }
    sockaddr* sockaddr_ptr() { return reinterpret_cast<sockaddr*>(&storage_); }
    socklen_t length() const;
    int family() const { return storage_.ss_family; }
    bool is_ipv6() const { return family() == AF_INET6; }
    std::uint16_t port() const;
    void set_port(std::uint16_t port);
    bool is_wildcard() const;
    // The IPv4 address in host order (also for IPv4-mapped IPv6), else nullopt.
    std::optional<std::uint32_t> ipv4() const;
    // 16 octets: an IPv6 address as is, an IPv4 one mapped (::ffff:a.b.c.d).
    std::array<std::uint8_t, 16> mapped_octets() const;
    bool is_loopback() const;

    std::string host_string() const;  // "127.0.0.1", "::1", "fe80::1%eth0"
    std::string to_string() const;    // "127.0.0.1:123", "[::1]:123"

    friend bool operator==(const SocketAddress& a, const SocketAddress& b);

  private:
    sockaddr_storage storage_{};
};

// The address the socket `fd` is bound to (getsockname); nullopt when it cannot be had.
std::optional<SocketAddress> local_address_of(int fd);

// Parses a numeric "ADDR:PORT" or "[ADDR]:PORT" (IPv6 may carry "%scope"). The port is
// required unless default_port is given; then "ADDR", "[ADDR]" and a bare IPv6 work too.
Expected<SocketAddress> parse_socket_address(std::string_view text,
                                             std::optional<std::uint16_t> default_port = {});

// An address prefix, "10.0.0.0/8" or "fd00::/8" (a bare address is a whole /32 or /128), with
// IPv4 mapped into the IPv6 space (::ffff:0:0/96): the length counts from the 128-bit start.
struct Cidr {
    std::array<std::uint8_t, 16> octets{};
    std::uint8_t length = 0;

    friend bool operator==(const Cidr&, const Cidr&) = default;
};
Expected<Cidr> parse_cidr(std::string_view text);

// Splits "HOST:PORT", "[HOST]:PORT", "HOST", or a bare IPv6 address into host and port, for
// names that still need resolving.
struct HostPort {
    std::string host;
    std::uint16_t port = 0;
};
Expected<HostPort> split_host_port(std::string_view text, std::uint16_t default_port);

}  // namespace cloudtime::sys
