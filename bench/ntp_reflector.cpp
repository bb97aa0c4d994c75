// The physical limit of this machine for an NTP-shaped UDP service: recvmmsg, turn each
// 48-octet request into a mode-4 datagram that echoes its transmit timestamp as origin (so
// the load generator accepts it), sendmmsg. No clock reads, no checks: nothing a real server
// could skip. For the benchmark only.
#include <poll.h>

#include <algorithm>
#include <csignal>
#include <iostream>
#include <string>

#include "proto/packet.hpp"
#include "sys/datagram_batch.hpp"
#include "sys/udp_socket.hpp"

namespace {
volatile std::sig_atomic_t stop = 0;
void on_signal(int /*signal*/) {
    stop = 1;
}
}  // namespace

int main(int argc, char** argv) {
    namespace ct = cloudtime;
    if (argc != 2 && argc != 3) {
        std::cerr << "usage: ntp_reflector ADDR:PORT [BATCH]\n";
        return 64;
    }
    auto address = ct::sys::parse_socket_address(argv[1]);
    if (!address) {
        std::cerr << "ntp_reflector: " << address.error() << "\n";
        return 64;
    }
    const std::size_t batch_size = argc == 3 ? std::stoul(argv[2]) : 32;
    auto socket = ct::sys::UdpSocket::bind(*address, {.reuse_port = false, .nonblocking = true});
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
            ::poll(&p, 1, 100);
            continue;
        }
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const auto request = batch.payload(i);
            if (request.size() < ct::proto::kHeaderSize) {
                continue;
            }
            auto reply = batch.next_reply();
            std::copy_n(request.begin(), ct::proto::kHeaderSize, reply.begin());
            reply[0] = static_cast<std::uint8_t>((request[0] & 0x38U) | 0x04U);  // VN kept, mode 4
            reply[1] = 1;                                                        // stratum 1
            std::copy_n(request.begin() + ct::proto::kTransmitOffset, 8,
                        reply.begin() + ct::proto::kOriginOffset);
            batch.commit_reply(i, ct::proto::kHeaderSize);
        }
        reflected += batch.send(*socket);
    }
    std::cout << "reflected " << reflected << std::endl;
    return 0;
}
