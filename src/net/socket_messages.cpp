// SPDX-License-Identifier: Apache-2.0
#include "net/socket_messages.hpp"

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "sys/clock.hpp"

namespace cloudtime::sys {

void read_message(const msghdr& msg, std::size_t size, Datagram& out) {
    out = Datagram{};
    out.size = size;
    out.truncated = (static_cast<unsigned>(msg.msg_flags) & MSG_TRUNC) != 0;
    out.peer =
        SocketAddress::from_sockaddr(static_cast<const sockaddr*>(msg.msg_name), msg.msg_namelen)
            .value_or(SocketAddress{});
    auto* m = const_cast<msghdr*>(&msg);
    for (cmsghdr* c = CMSG_FIRSTHDR(m); c != nullptr; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            timespec ts{};
            std::memcpy(&ts, CMSG_DATA(c), sizeof(ts));
            out.kernel_receive = from_timespec(ts);
            out.kernel_timestamp = true;
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING &&
                   c->cmsg_len >= CMSG_LEN(sizeof(scm_timestamping))) {
            scm_timestamping stamps{};
            std::memcpy(&stamps, CMSG_DATA(c), sizeof(stamps));
            if (stamps.ts[0].tv_sec != 0 || stamps.ts[0].tv_nsec != 0) {
                out.kernel_receive = from_timespec(stamps.ts[0]);
                out.kernel_timestamp = true;
            }
        } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            in_pktinfo info{};
            std::memcpy(&info, CMSG_DATA(c), sizeof(info));
            out.destination = {true, AF_INET, info.ipi_addr, {}, 0};
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            in6_pktinfo info{};
            std::memcpy(&info, CMSG_DATA(c), sizeof(info));
            out.destination = {true, AF_INET6, {}, info.ipi6_addr, info.ipi6_ifindex};
        }
    }
    if (!out.kernel_timestamp) {
        out.kernel_receive = realtime_now();
    }
}

std::size_t write_reply_source(const DestinationInfo& destination, std::span<char> control) {
    if (!destination.present) {
        return 0;
    }
    msghdr msg{};
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    if (destination.family == AF_INET) {
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
        in_pktinfo info{};
        info.ipi_spec_dst = destination.v4;
        std::memcpy(CMSG_DATA(c), &info, sizeof(info));
        return CMSG_SPACE(sizeof(in_pktinfo));
    }
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
    in6_pktinfo info{};
    info.ipi6_addr = destination.v6;
    info.ipi6_ifindex = destination.ifindex;
    std::memcpy(CMSG_DATA(c), &info, sizeof(info));
    return CMSG_SPACE(sizeof(in6_pktinfo));
}

std::size_t send_messages(int fd, std::span<mmsghdr> messages, std::span<std::uint8_t> failed) {
    std::size_t tried = 0;
    std::size_t sent = 0;
    std::fill(failed.begin(), failed.end(), 0);
    while (tried < messages.size()) {
        const int n = ::sendmmsg(fd, &messages[tried],
                                 static_cast<unsigned>(messages.size() - tried), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (tried < failed.size()) {
                failed[tried] = 1;
            }
            ++tried;  // the first unsent message failed: skip it, try the rest
            continue;
        }
        tried += static_cast<std::size_t>(n);
        sent += static_cast<std::size_t>(n);
    }
    return sent;
}

}  // namespace cloudtime::sys
