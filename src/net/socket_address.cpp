// SPDX-License-Identifier: Apache-2.0
#include "net/socket_address.hpp"

#include <arpa/inet.h>
#include <net/if.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace cloudtime::sys {

namespace {
const sockaddr_in& as_v4(const sockaddr_storage& s) {
    return *reinterpret_cast<const sockaddr_in*>(&s);
}
const sockaddr_in6& as_v6(const sockaddr_storage& s) {
    return *reinterpret_cast<const sockaddr_in6*>(&s);
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
    unsigned value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end || value > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(value);
}
}  // namespace

std::optional<SocketAddress> SocketAddress::from_sockaddr(const sockaddr* sa, socklen_t len) {
    SocketAddress a;
    if (sa == nullptr) {
        return std::nullopt;
    }
    if (sa->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
        std::memcpy(&a.storage_, sa, sizeof(sockaddr_in));
        return a;
    }
    if (sa->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
        std::memcpy(&a.storage_, sa, sizeof(sockaddr_in6));
        return a;
    }
    return std::nullopt;
}

SocketAddress SocketAddress::from_ipv6_octets(const std::array<std::uint8_t, 16>& octets,
                                              std::uint16_t port) {
    sockaddr_in6 v6{};
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    std::memcpy(&v6.sin6_addr, octets.data(), octets.size());
    return *from_sockaddr(reinterpret_cast<const sockaddr*>(&v6), sizeof(v6));
}

socklen_t SocketAddress::length() const {
    return is_ipv6() ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

std::uint16_t SocketAddress::port() const {
    return ntohs(is_ipv6() ? as_v6(storage_).sin6_port : as_v4(storage_).sin_port);
}

void SocketAddress::set_port(std::uint16_t port) {
    if (is_ipv6()) {
        reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
    } else {
        reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
    }
}

bool SocketAddress::is_wildcard() const {
    if (is_ipv6()) {
        return IN6_IS_ADDR_UNSPECIFIED(&as_v6(storage_).sin6_addr);
    }
    return as_v4(storage_).sin_addr.s_addr == htonl(INADDR_ANY);
}

std::optional<std::uint32_t> SocketAddress::ipv4() const {
    if (!is_ipv6()) {
        return ntohl(as_v4(storage_).sin_addr.s_addr);
    }
    const in6_addr& a = as_v6(storage_).sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&a)) {
        std::uint32_t v4 = 0;
        std::memcpy(&v4, &a.s6_addr[12], 4);
        return ntohl(v4);
    }
    return std::nullopt;
}

std::array<std::uint8_t, 16> SocketAddress::mapped_octets() const {
    std::array<std::uint8_t, 16> out{};
    if (is_ipv6()) {
        std::memcpy(out.data(), &as_v6(storage_).sin6_addr, 16);
    } else {
        out[10] = 0xFF;
        out[11] = 0xFF;
        std::memcpy(&out[12], &as_v4(storage_).sin_addr, 4);
    }
    return out;
}

std::optional<SocketAddress> local_address_of(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
        return std::nullopt;
    }
    return SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

Expected<Cidr> parse_cidr(std::string_view text) {
    const std::string whole(text);
    const auto slash = text.find('/');
    const std::string host(text.substr(0, slash));
    Cidr out;
    unsigned max_length = 128;
    in_addr v4{};
    in6_addr v6{};
    if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
        out.octets[10] = 0xFF;
        out.octets[11] = 0xFF;
        std::memcpy(&out.octets[12], &v4, 4);
        max_length = 32;
    } else if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
        std::memcpy(out.octets.data(), &v6, 16);
    } else {
        return Error{"'" + whole + "': not an IPv4 or IPv6 address or prefix"};
    }
    unsigned length = max_length;
    if (slash != std::string_view::npos) {
        const std::string_view digits = text.substr(slash + 1);
        const auto [ptr, ec] =
            std::from_chars(digits.data(), digits.data() + digits.size(), length);
        if (digits.empty() || ec != std::errc{} || ptr != digits.data() + digits.size() ||
            length > max_length) {
            return Error{"'" + whole + "': prefix length must be 0 to " +
                         std::to_string(max_length)};
        }
    }
    out.length = static_cast<std::uint8_t>(length + (128 - max_length));
    // Host bits set is almost always a typo for another network: refuse it.
    for (unsigned bit = out.length; bit < 128; ++bit) {
        if ((out.octets[bit / 8] & (0x80U >> (bit % 8))) != 0) {
            return Error{"'" + whole + "': address has bits set beyond the prefix length"};
        }
    }
    return out;
}

bool SocketAddress::is_loopback() const {
    if (is_ipv6()) {
        return IN6_IS_ADDR_LOOPBACK(&as_v6(storage_).sin6_addr);
    }
    return (ntohl(as_v4(storage_).sin_addr.s_addr) >> 24U) == 127U;
}

std::string SocketAddress::host_string() const {
    char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2] = {};
    if (is_ipv6()) {
        const auto& v6 = as_v6(storage_);
        inet_ntop(AF_INET6, &v6.sin6_addr, buf, sizeof(buf));
        std::string text(buf);
        if (v6.sin6_scope_id != 0) {
            char name[IF_NAMESIZE] = {};
            text += '%';
            text += if_indextoname(v6.sin6_scope_id, name) != nullptr
                        ? std::string(name)
                        : std::to_string(v6.sin6_scope_id);
        }
        return text;
    }
    inet_ntop(AF_INET, &as_v4(storage_).sin_addr, buf, sizeof(buf));
    return buf;
}

std::string SocketAddress::to_string() const {
    if (is_ipv6()) {
        return "[" + host_string() + "]:" + std::to_string(port());
    }
    return host_string() + ":" + std::to_string(port());
}

bool operator==(const SocketAddress& a, const SocketAddress& b) {
    if (a.family() != b.family()) {
        return false;
    }
    if (a.is_ipv6()) {
        const auto& x = as_v6(a.storage_);
        const auto& y = as_v6(b.storage_);
        return x.sin6_port == y.sin6_port && x.sin6_scope_id == y.sin6_scope_id &&
               std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof(in6_addr)) == 0;
    }
    const auto& x = as_v4(a.storage_);
    const auto& y = as_v4(b.storage_);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
}

Expected<HostPort> split_host_port(std::string_view text, std::uint16_t default_port) {
    HostPort hp{std::string(text), default_port};
    if (text.empty()) {
        return Error{"empty address"};
    }
    if (text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos) {
            return Error{"'" + std::string(text) + "': missing ']'"};
        }
        hp.host = std::string(text.substr(1, close - 1));
        const std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                return Error{"'" + std::string(text) + "': expected ':' after ']'"};
            }
            const auto port = parse_port(rest.substr(1));
            if (!port) {
                return Error{"'" + std::string(text) + "': bad port"};
            }
            hp.port = *port;
        }
        return hp;
    }
    const auto colon = text.find(':');
    if (colon == std::string_view::npos || text.find(':', colon + 1) != std::string_view::npos) {
        return hp;  // no port, or a bare IPv6 address
    }
    const auto port = parse_port(text.substr(colon + 1));
    if (!port) {
        return Error{"'" + std::string(text) + "': bad port"};
    }
    hp.host = std::string(text.substr(0, colon));
    hp.port = *port;
    return hp;
}

Expected<SocketAddress> parse_socket_address(std::string_view text,
                                             std::optional<std::uint16_t> default_port) {
    const bool has_port =
        (text.starts_with('[') && text.find("]:") != std::string_view::npos) ||
        (!text.starts_with('[') && std::count(text.begin(), text.end(), ':') == 1);
    if (!has_port && !default_port) {
        return Error{"'" + std::string(text) + "': expected ADDR:PORT (IPv6 as [ADDR]:PORT)"};
    }
    auto hp = split_host_port(text, default_port.value_or(0));
    if (!hp) {
        return hp.failure();
    }
    std::string host = hp->host;
    std::string scope;
    if (const auto pct = host.find('%'); pct != std::string::npos) {
        scope = host.substr(pct + 1);
        host.resize(pct);
    }
    sockaddr_in v4{};
    sockaddr_in6 v6{};
    if (scope.empty() && inet_pton(AF_INET, host.c_str(), &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons(hp->port);
        return *SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&v4), sizeof(v4));
    }
    if (inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) == 1) {
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons(hp->port);
        if (!scope.empty()) {
            unsigned index = if_nametoindex(scope.c_str());
            if (index == 0) {
                const auto* end = scope.data() + scope.size();
                const auto [ptr, ec] = std::from_chars(scope.data(), end, index);
                if (ec != std::errc{} || ptr != end || index == 0) {
                    return Error{"'" + std::string(text) + "': unknown interface '" + scope + "'"};
                }
            }
            v6.sin6_scope_id = index;
        }
        return *SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&v6), sizeof(v6));
    }
    return Error{"'" + std::string(text) + "': not a numeric IPv4 or IPv6 address"};
}

}  // namespace cloudtime::sys
