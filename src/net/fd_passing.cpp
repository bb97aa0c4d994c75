// SPDX-License-Identifier: Apache-2.0
#include "net/fd_passing.hpp"

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace cloudtime::sys {

Expected<std::pair<UniqueFd, UniqueFd>> make_channel() {
    std::array<int, 2> fds{-1, -1};
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds.data()) != 0) {
        return os_error("socketpair");
    }
    return std::pair<UniqueFd, UniqueFd>{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Status send_message(int channel, std::string_view text, int fd) {
    if (text.size() > kMaxChannelMessage) {
        return Error{"a message of " + std::to_string(text.size()) +
                     " octets is larger than the channel takes (" +
                     std::to_string(kMaxChannelMessage) + ")"};
    }
    iovec iov{const_cast<char*>(text.data()), text.size()};
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> control{};
    if (fd >= 0) {
        message.msg_control = control.data();
        message.msg_controllen = control.size();
        cmsghdr* header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(header), &fd, sizeof(int));
    }
    for (;;) {
        if (::sendmsg(channel, &message, MSG_NOSIGNAL) >= 0) {
            return Done{};
        }
        if (errno != EINTR) {
            return os_error("sendmsg");
        }
    }
}

Expected<std::optional<ChannelMessage>> receive_message(int channel) {
    std::vector<char> buffer(kMaxChannelMessage);
    iovec iov{buffer.data(), buffer.size()};
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> control{};
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    ssize_t n = 0;
    do {
        n = ::recvmsg(channel, &message, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return os_error("recvmsg");
    }
    if (n == 0) {
        return std::optional<ChannelMessage>{};  // closed
    }
    ChannelMessage out{std::string(buffer.data(), static_cast<std::size_t>(n)), UniqueFd{}};
    for (cmsghdr* h = CMSG_FIRSTHDR(&message); h != nullptr; h = CMSG_NXTHDR(&message, h)) {
        if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS &&
            h->cmsg_len >= CMSG_LEN(sizeof(int))) {
            int fd = -1;
            std::memcpy(&fd, CMSG_DATA(h), sizeof(int));
            out.fd = UniqueFd(fd);
        }
    }
    if ((message.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
        return Error{"a message on the channel was truncated"};
    }
    return std::optional<ChannelMessage>{std::move(out)};
}

void shut_channel(int channel) {
    ::shutdown(channel, SHUT_RDWR);
}

}  // namespace cloudtime::sys
