// SPDX-License-Identifier: Apache-2.0
#include "net/udp_socket.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "net/socket_messages.hpp"
#include "net/tx_timestamps.hpp"

namespace cloudtime::sys {

namespace {
Status set_option(int fd, int level, int name, int value, const char* what) {
    if (::setsockopt(fd, level, name, &value, sizeof(value)) != 0) {
        return os_error(what);
    }
    return Done{};
}
}  // namespace

Expected<UdpSocket> UdpSocket::bind(const SocketAddress& local, const UdpOptions& options) {
    int type = SOCK_DGRAM | SOCK_CLOEXEC;
    if (options.nonblocking) {
        type |= SOCK_NONBLOCK;
    }
    UniqueFd fd(::socket(local.family(), type, 0));
    if (!fd.valid()) {
        return os_error("socket");
    }
    // SO_TIMESTAMPNS always: the kernel turns receive timestamps on for the whole system a
    // moment after the first socket asks (deferred work), and only with it does a datagram
    // that came in before then get the time it was read, from the kernel, rather than none.
    Status stamping = set_option(fd.get(), SOL_SOCKET, SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS");
    if (stamping && options.transmit_timestamps) {
        stamping = enable_timestamping(fd.get());
    }
    std::array<Status, 4> settings = {
        stamping,
        options.reuse_port ? set_option(fd.get(), SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT")
                           : Status(Done{}),
        local.is_ipv6() ? set_option(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY")
                        : Status(Done{}),
        Status(Done{}),
    };
    const bool pktinfo = local.is_wildcard();
    if (pktinfo) {
        settings[3] =
            local.is_ipv6()
                ? set_option(fd.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO")
                : set_option(fd.get(), IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO");
    }
    for (const Status& s : settings) {
        if (!s) {
            return s.failure();
        }
    }
    if (options.receive_buffer > 0 && !set_option(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE,
                                                  options.receive_buffer, "SO_RCVBUFFORCE")) {
        if (auto s =
                set_option(fd.get(), SOL_SOCKET, SO_RCVBUF, options.receive_buffer, "SO_RCVBUF");
            !s) {
            return s.failure();
        }
    }
    if (::bind(fd.get(), local.sockaddr_ptr(), local.length()) != 0) {
        return os_error("bind " + local.to_string());
    }
    return UdpSocket(std::move(fd));
}

Expected<UdpSocket> UdpSocket::connect(const SocketAddress& server, bool transmit_timestamps) {
    UniqueFd fd(::socket(server.family(), SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid()) {
        return os_error("socket");
    }
    Status stamping = set_option(fd.get(), SOL_SOCKET, SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS");
    if (stamping && transmit_timestamps) {
        stamping = enable_timestamping(fd.get());
    }
    if (!stamping) {
        return stamping.failure();
    }
    if (::connect(fd.get(), server.sockaddr_ptr(), server.length()) != 0) {
        return os_error("connect " + server.to_string());
    }
    return UdpSocket(std::move(fd));
}

int UdpSocket::receive_buffer() const {
    int value = 0;
    socklen_t len = sizeof(value);
    if (::getsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &value, &len) != 0) {
        return 0;
    }
    return value;
}

Expected<UdpSocket> UdpSocket::adopt(UniqueFd fd) {
    int type = 0;
    socklen_t length = sizeof(type);
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_TYPE, &type, &length) != 0 || type != SOCK_DGRAM) {
        return Error{"not a datagram socket"};
    }
    const int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
        return os_error("fcntl(O_NONBLOCK)");
    }
    return UdpSocket(std::move(fd));
}

SocketAddress UdpSocket::local_address() const {
    return local_address_of(fd_.get()).value_or(SocketAddress{});
}

IoStatus UdpSocket::receive(std::span<std::uint8_t> buffer, Datagram& out) const {
    sockaddr_storage peer{};
    iovec iov{buffer.data(), buffer.size()};
    alignas(cmsghdr) std::array<char, kReceiveControlSize> control{};
    msghdr msg{};
    msg.msg_name = &peer;
    msg.msg_namelen = sizeof(peer);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    const ssize_t n = ::recvmsg(fd_.get(), &msg, 0);
    if (n < 0) {
        return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? IoStatus::would_block
                                                                           : IoStatus::error;
    }
    read_message(msg, static_cast<std::size_t>(n), out);
    return IoStatus::ok;
}

IoStatus UdpSocket::send_to(std::span<const std::uint8_t> payload, const Datagram& request) const {
    iovec iov{const_cast<std::uint8_t*>(payload.data()), payload.size()};
    alignas(cmsghdr) std::array<char, kReplyControlSize> control{};
    msghdr msg{};
    msg.msg_name = const_cast<sockaddr*>(request.peer.sockaddr_ptr());
    msg.msg_namelen = request.peer.length();
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_controllen = write_reply_source(request.destination, control);
    msg.msg_control = msg.msg_controllen != 0 ? control.data() : nullptr;
    const ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_DONTWAIT);
    if (n < 0) {
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? IoStatus::would_block : IoStatus::error;
    }
    return IoStatus::ok;
}

IoStatus UdpSocket::send(std::span<const std::uint8_t> payload, bool stamp) const {
    iovec iov{const_cast<std::uint8_t*>(payload.data()), payload.size()};
    alignas(cmsghdr) std::array<char, kReplyControlSize> control{};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (stamp) {
        msg.msg_controllen = write_stamp_request(control, 0);
        msg.msg_control = control.data();
    }
    const ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_DONTWAIT);
    if (n < 0) {
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? IoStatus::would_block : IoStatus::error;
    }
    return IoStatus::ok;
}

}  // namespace cloudtime::sys
