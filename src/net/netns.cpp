// SPDX-License-Identifier: Apache-2.0
#include "net/netns.hpp"

#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/nsfs.h>
#include <linux/rtnetlink.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <algorithm>
#include <array>
#include <optional>
#include <span>

#include <cstdlib>
#include <cstring>

namespace cloudtime::sys {

Expected<NamespaceScope> NamespaceScope::enter(const std::string& path) {
    UniqueFd home(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!home.valid()) {
        return os_error("open /proc/thread-self/ns/net");
    }
    // Without blocking: whatever else lies in the directory (a FIFO) must not hang us.
    UniqueFd target(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (!target.valid()) {
        return os_error("open " + path);
    }
    if (::ioctl(target.get(), NS_GET_NSTYPE) != CLONE_NEWNET) {
        return Error{path + ": not a network namespace", EINVAL};
    }
    if (::setns(target.get(), CLONE_NEWNET) != 0) {
        return os_error("setns " + path);
    }
    return NamespaceScope(std::move(home));
}

NamespaceScope::~NamespaceScope() {
    if (home_.valid() && ::setns(home_.get(), CLONE_NEWNET) != 0) {
        // A thread that cannot return would bind the next namespace's sockets in the wrong
        // place: nothing sane is left to do.
        std::abort();
    }
}

Expected<UniqueFd> open_address_events() {
    UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!fd.valid()) {
        return os_error("socket(AF_NETLINK)");
    }
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    local.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_LINK;
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0) {
        return os_error("bind(AF_NETLINK)");
    }
    return fd;
}

void drain_events(int fd) {
    std::array<char, 8192> buffer{};
    while (::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT) > 0) {
    }
}

Expected<std::vector<LocalAddress>> find_local_addresses(const std::vector<SocketAddress>& wanted) {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) {
        return os_error("getifaddrs");
    }
    std::vector<LocalAddress> found;
    for (const SocketAddress& want : wanted) {
        for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
            // A down interface's address is bound all the same: it serves once the link is up.
            if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != want.family()) {
                continue;
            }
            const socklen_t length =
                i->ifa_addr->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
            auto here = SocketAddress::from_sockaddr(i->ifa_addr, length);
            if (!here || here->mapped_octets() != want.mapped_octets()) {
                continue;
            }
            SocketAddress bindable = *here;
            bindable.set_port(want.port());
            // from_sockaddr keeps a link-local scope id.
            found.push_back({bindable, ::if_nametoindex(i->ifa_name)});
            break;
        }
    }
    ::freeifaddrs(list);
    return found;
}

namespace {
// Appends one attribute to a netlink request at `used`; returns the new length.
std::size_t append_attribute(std::span<char> request, std::size_t used, unsigned short type,
                             std::span<const std::uint8_t> value) {
    rtattr attribute{};
    attribute.rta_type = type;
    attribute.rta_len = static_cast<unsigned short>(RTA_LENGTH(value.size()));
    char* at = request.data() + NLMSG_ALIGN(used);
    std::memcpy(at, &attribute, sizeof(attribute));
    std::memcpy(at + RTA_LENGTH(0), value.data(), value.size());
    return NLMSG_ALIGN(used) + RTA_ALIGN(attribute.rta_len);
}

// What the kernel said to a request that asked for an acknowledgement.
Status read_ack(int fd) {
    std::array<char, 1024> reply{};
    const ssize_t n = ::recv(fd, reply.data(), reply.size(), 0);
    if (n < static_cast<ssize_t>(NLMSG_LENGTH(sizeof(nlmsgerr)))) {
        return os_error("rtnetlink receive");
    }
    nlmsghdr answer{};
    std::memcpy(&answer, reply.data(), sizeof(answer));
    nlmsgerr error{};
    std::memcpy(&error, reply.data() + NLMSG_LENGTH(0), sizeof(error));
    if (answer.nlmsg_type != NLMSG_ERROR) {
        return Error{"rtnetlink: unexpected answer"};
    }
    if (error.error != 0) {
        return Error{std::strerror(-error.error), -error.error};
    }
    return Done{};
}

Expected<UniqueFd> open_rtnetlink() {
    UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!fd.valid()) {
        return os_error("socket(AF_NETLINK)");
    }
    return fd;
}

Status send_to_kernel(int fd, std::span<const char> request) {
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(fd, request.data(), request.size(), 0, reinterpret_cast<const sockaddr*>(&kernel),
                 sizeof(kernel)) < 0) {
        return os_error("rtnetlink send");
    }
    return Done{};
}
// One RTM_NEWADDR message (its header included): the address, when it carries our mark.
std::optional<MarkedAddress> marked_address(std::span<const char> message_bytes) {
    if (message_bytes.size() < NLMSG_LENGTH(sizeof(ifaddrmsg))) {
        return std::nullopt;
    }
    ifaddrmsg message{};
    std::memcpy(&message, message_bytes.data() + NLMSG_LENGTH(0), sizeof(message));
    std::optional<SocketAddress> address;
    bool ours = false;
    const std::size_t end = message_bytes.size();
    for (std::size_t a = NLMSG_LENGTH(sizeof(ifaddrmsg)); a + sizeof(rtattr) <= end;) {
        rtattr attribute{};
        std::memcpy(&attribute, message_bytes.data() + a, sizeof(attribute));
        if (attribute.rta_len < sizeof(rtattr) || a + attribute.rta_len > end) {
            break;
        }
        const char* value = message_bytes.data() + a + RTA_LENGTH(0);
        const std::size_t size = attribute.rta_len - RTA_LENGTH(0);
        if (attribute.rta_type == IFA_PROTO && size >= 1) {
            ours = static_cast<std::uint8_t>(value[0]) == kAddressProtocol;
        } else if (attribute.rta_type == IFA_ADDRESS && message.ifa_family == AF_INET6 &&
                   size == 16) {
            std::array<std::uint8_t, 16> octets{};
            std::memcpy(octets.data(), value, 16);
            address = SocketAddress::from_ipv6_octets(octets, 0);
        } else if (attribute.rta_type == IFA_LOCAL && message.ifa_family == AF_INET && size == 4) {
            sockaddr_in v4{};
            v4.sin_family = AF_INET;
            std::memcpy(&v4.sin_addr, value, 4);
            address =
                SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&v4), sizeof(v4));
        }
        a += RTA_ALIGN(attribute.rta_len);
    }
    if (!ours || !address) {
        return std::nullopt;
    }
    return MarkedAddress{*address, message.ifa_prefixlen, message.ifa_index};
}

}  // namespace

Status change_address(bool add, const SocketAddress& address, std::uint8_t prefix_length,
                      unsigned ifindex) {
    auto netlink = open_rtnetlink();
    if (!netlink) {
        return netlink.failure();
    }
    const UniqueFd fd = std::move(netlink).value();
    struct Request {
        nlmsghdr header;
        ifaddrmsg message;
        std::array<char, 64> attributes;
    } request{};
    const bool v6 = address.is_ipv6();
    const auto octets = address.mapped_octets();
    const std::size_t length = v6 ? 16 : 4;
    const std::uint8_t* bytes = octets.data() + (v6 ? 0 : 12);
    request.header.nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
    request.header.nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK |
                                                            (add ? NLM_F_CREATE | NLM_F_EXCL : 0));
    request.header.nlmsg_seq = 1;
    request.message.ifa_family = static_cast<std::uint8_t>(v6 ? AF_INET6 : AF_INET);
    request.message.ifa_prefixlen = prefix_length;
    request.message.ifa_flags = v6 ? IFA_F_NODAD : 0;
    request.message.ifa_index = ifindex;
    std::size_t used = NLMSG_LENGTH(sizeof(ifaddrmsg));
    const std::span<char> buffer(reinterpret_cast<char*>(&request), sizeof(request));
    const std::span<const std::uint8_t> value(bytes, length);
    used = append_attribute(buffer, used, IFA_LOCAL, value);
    used = append_attribute(buffer, used, IFA_ADDRESS, value);
    if (add) {  // kernels before 6.1 ignore it: the address is then not known as ours later
        const std::array<std::uint8_t, 1> protocol{kAddressProtocol};
        used = append_attribute(buffer, used, IFA_PROTO, protocol);
    }
    request.header.nlmsg_len = static_cast<std::uint32_t>(used);
    if (auto sent = send_to_kernel(fd.get(), buffer.first(used)); !sent) {
        return sent;
    }
    if (auto acked = read_ack(fd.get()); !acked) {
        return Error{std::string(add ? "adding " : "removing ") + address.host_string() + ": " +
                     acked.error()};
    }
    return Done{};
}

Expected<std::vector<MarkedAddress>> addresses_marked_ours() {
    auto netlink = open_rtnetlink();
    if (!netlink) {
        return netlink.failure();
    }
    const UniqueFd fd = std::move(netlink).value();
    struct Request {
        nlmsghdr header;
        ifaddrmsg message;
    } request{};
    request.header.nlmsg_len = NLMSG_LENGTH(sizeof(ifaddrmsg));
    request.header.nlmsg_type = RTM_GETADDR;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    request.header.nlmsg_seq = 2;
    request.message.ifa_family = AF_UNSPEC;
    if (auto sent = send_to_kernel(
            fd.get(),
            std::span<const char>(reinterpret_cast<const char*>(&request), sizeof(request)));
        !sent) {
        return sent.failure();
    }
    std::vector<MarkedAddress> marked;
    std::vector<char> buffer(32768);
    for (;;) {
        const ssize_t n = ::recv(fd.get(), buffer.data(), buffer.size(), 0);
        if (n < 0) {
            return os_error("rtnetlink receive");
        }
        auto left = static_cast<std::size_t>(n);
        for (std::size_t at = 0; left >= sizeof(nlmsghdr);) {
            nlmsghdr header{};
            std::memcpy(&header, buffer.data() + at, sizeof(header));
            if (header.nlmsg_len < sizeof(nlmsghdr) || header.nlmsg_len > left) {
                return Error{"rtnetlink: a truncated answer"};
            }
            if (header.nlmsg_type == NLMSG_DONE) {
                return marked;
            }
            if (header.nlmsg_type == NLMSG_ERROR) {
                return Error{"rtnetlink: the address list was refused"};
            }
            if (header.nlmsg_type == RTM_NEWADDR) {
                if (auto address = marked_address(
                        std::span<const char>(buffer.data() + at, header.nlmsg_len))) {
                    marked.push_back(*address);
                }
            }
            const std::size_t step = std::min<std::size_t>(NLMSG_ALIGN(header.nlmsg_len), left);
            at += step;
            left -= step;
        }
    }
}

}  // namespace cloudtime::sys
