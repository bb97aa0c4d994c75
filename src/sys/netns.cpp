#include "sys/netns.hpp"

#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <array>

#include <cstdlib>

namespace cloudtime::sys {

Expected<NamespaceScope> NamespaceScope::enter(const std::string& path) {
    UniqueFd home(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!home.valid()) {
        return Error{errno_message("open /proc/thread-self/ns/net")};
    }
    UniqueFd target(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!target.valid()) {
        return Error{errno_message(("open " + path).c_str())};
    }
    if (::setns(target.get(), CLONE_NEWNET) != 0) {
        return Error{errno_message(("setns " + path).c_str())};
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
        return Error{errno_message("socket(AF_NETLINK)")};
    }
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    local.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_LINK;
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0) {
        return Error{errno_message("bind(AF_NETLINK)")};
    }
    return fd;
}

void drain_events(int fd) {
    std::array<char, 8192> buffer{};
    while (::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT) > 0) {
    }
}

Expected<std::vector<SocketAddress>> find_local_addresses(
    const std::vector<SocketAddress>& wanted) {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) {
        return Error{errno_message("getifaddrs")};
    }
    std::vector<SocketAddress> found;
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
            found.push_back(bindable);  // from_sockaddr keeps a link-local scope id
            break;
        }
    }
    ::freeifaddrs(list);
    return found;
}

}  // namespace cloudtime::sys
