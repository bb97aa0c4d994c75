// SPDX-License-Identifier: Apache-2.0
#include "net/multi_source_sender.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "net/socket_messages.hpp"

namespace cloudtime::sys {

MultiSourceSender::MultiSourceSender(std::size_t capacity, const SocketAddress& server)
    : server_(server), capacity_(capacity), iov_(capacity), msgs_(capacity), controls_(capacity) {}

void MultiSourceSender::add(std::span<const std::uint8_t> payload, std::uint32_t source) {
    const std::size_t i = count_++;
    iov_[i] = {const_cast<std::uint8_t*>(payload.data()), payload.size()};
    msghdr& h = msgs_[i].msg_hdr;
    h = msghdr{};
    h.msg_name = const_cast<sockaddr*>(server_.sockaddr_ptr());
    h.msg_namelen = server_.length();
    h.msg_iov = &iov_[i];
    h.msg_iovlen = 1;
    if (source != 0 && !server_.is_ipv6()) {
        h.msg_control = controls_[i].data();
        h.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
        cmsghdr* c = CMSG_FIRSTHDR(&h);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
        in_pktinfo info{};
        info.ipi_spec_dst.s_addr = htonl(source);
        std::memcpy(CMSG_DATA(c), &info, sizeof(info));
    }
}

std::size_t MultiSourceSender::flush(const UdpSocket& socket) {
    const std::size_t sent = send_messages(socket.fd(), std::span(msgs_).first(count_));
    count_ = 0;
    return sent;
}

bool in_private_network_namespace() {
    // A named namespace (`ip netns add`) is bind-mounted under /run/netns; init's namespace
    // never is (and /proc/1 may not be readable to compare with).
    struct stat self {};
    if (::stat("/proc/self/ns/net", &self) != 0) {
        return false;
    }
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/run/netns", ec)) {
        struct stat named {};
        if (::stat(entry.path().c_str(), &named) == 0 && named.st_ino == self.st_ino &&
            named.st_dev == self.st_dev) {
            return true;
        }
    }
    return false;
}

}  // namespace cloudtime::sys
