// SPDX-License-Identifier: Apache-2.0
// The physical limit of this machine for an NTP-shaped UDP service over recvmmsg/sendmmsg:
// each batch of requests becomes a batch of replies (bench/reflect.hpp), nothing a real
// server could skip. For the benchmark only.
//
//   ntp_reflector ADDR:PORT [BATCH] [poll|spin]
//
// `poll` sleeps in poll() when the socket is empty; `spin` never sleeps (user-space busy
// polling: recvmmsg with MSG_DONTWAIT in a loop), to measure what waking up costs.
#include <poll.h>

#include <csignal>
#include <cstring>
#include <iostream>
#include <string>

#include "bench/reflect.hpp"
#include "net/datagram_batch.hpp"
#include "net/udp_socket.hpp"

namespace {
volatile std::sig_atomic_t stop = 0;
void on_signal(int /*signal*/) {
    stop = 1;
}
}  // namespace

int main(int argc, char** argv) {
    namespace ct = cloudtime;
    if (argc < 2 || argc > 4) {
        std::cerr << "usage: ntp_reflector ADDR:PORT [BATCH] [poll|spin]\n";
        return 64;
    }
    auto address = ct::sys::parse_socket_address(argv[1]);
    if (!address) {
        std::cerr << "ntp_reflector: " << address.error() << "\n";
        return 64;
    }
    const std::size_t batch_size = argc >= 3 ? std::stoul(argv[2]) : 32;
    const bool spin = argc == 4 && std::strcmp(argv[3], "spin") == 0;
    if (argc == 4 && !spin && std::strcmp(argv[3], "poll") != 0) {
        std::cerr << "ntp_reflector: mode must be poll or spin\n";
        return 64;
    }
    // The same receive buffer as cloudtimed's default: the limit is the machine's, not a queue's.
    auto socket = ct::sys::UdpSocket::bind(
        *address, {.reuse_port = false, .nonblocking = true, .receive_buffer = 4 << 20});
    if (!socket) {
        std::cerr << "ntp_reflector: " << socket.error() << "\n";
        return 1;
    }
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    std::cout << "reflecting on udp " << socket->local_address().to_string() << std::endl;
    ct::sys::DatagramBatch batch(batch_size, 2048);
    pollfd p{socket->fd(), POLLIN, 0};
    std::uint64_t reflected = 0;
    while (stop == 0) {
        if (batch.receive(*socket) != ct::sys::IoStatus::ok) {
            if (!spin) {
                ::poll(&p, 1, 100);
            }
            continue;
        }
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const std::size_t length = ct::bench::reflect(batch.payload(i), batch.next_reply());
            if (length > 0) {
                batch.commit_reply(i, length);
            }
        }
        reflected += batch.send(*socket);
    }
    std::cout << "reflected " << reflected << std::endl;
    return 0;
}
