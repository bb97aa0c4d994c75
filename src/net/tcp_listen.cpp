// SPDX-License-Identifier: Apache-2.0
#include "net/tcp_listen.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

namespace cloudtime::sys {

Expected<UniqueFd> listen_tcp(const SocketAddress& address, int backlog) {
    UniqueFd fd(::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid()) {
        return os_error("socket");
    }
    const int on = 1;
    (void)::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (address.is_ipv6()) {
        (void)::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    }
    if (::bind(fd.get(), address.sockaddr_ptr(), address.length()) != 0) {
        return os_error("bind " + address.to_string());
    }
    if (::listen(fd.get(), backlog) != 0) {
        return os_error("listen " + address.to_string());
    }
    return fd;
}

}  // namespace cloudtime::sys
