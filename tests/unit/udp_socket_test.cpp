// SPDX-License-Identifier: Apache-2.0

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "net/udp_socket.hpp"

namespace cloudtime::sys {
namespace {

int read_sysctl(const char* path) {
    std::ifstream in(path);
    int value = 0;
    in >> value;
    return value;
}

SocketAddress loopback() {
    auto address = parse_socket_address("127.0.0.1:0");
    return address.value();
}

TEST(UdpSocket, ReceiveBufferDefaultsToTheKernels) {
    auto socket = UdpSocket::bind(loopback(), {});
    ASSERT_TRUE(socket) << socket.error();
    EXPECT_EQ(socket->receive_buffer(), read_sysctl("/proc/sys/net/core/rmem_default"));
}

TEST(UdpSocket, ReceiveBufferIsForcedWhenPrivilegedElseCapped) {
    const int asked = read_sysctl("/proc/sys/net/core/rmem_max") + (1 << 20);
    auto socket = UdpSocket::bind(loopback(), {.receive_buffer = asked});
    ASSERT_TRUE(socket) << socket.error();
    if (::geteuid() == 0) {
        EXPECT_EQ(socket->receive_buffer(), 2 * asked);
    } else {
        EXPECT_EQ(socket->receive_buffer(), 2 * read_sysctl("/proc/sys/net/core/rmem_max"));
    }
}

}  // namespace
}  // namespace cloudtime::sys
