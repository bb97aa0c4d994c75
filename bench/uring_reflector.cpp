// SPDX-License-Identifier: Apache-2.0
// The io_uring twin of ntp_reflector: the same replies (bench/reflect.hpp), with every
// receive and send an io_uring operation. DEPTH slots each keep one recvmsg in flight; a
// completed receive turns its slot into a sendmsg of the reply, a completed send re-arms the
// receive. One io_uring_enter per loop submits everything queued and reaps what completed.
// For the benchmark only: it answers whether io_uring beats recvmmsg/sendmmsg here.
//
//   uring_reflector ADDR:PORT [DEPTH]
#include <liburing.h>
#include <sys/socket.h>

#include <array>
#include <csignal>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "bench/reflect.hpp"
#include "net/udp_socket.hpp"

namespace {
volatile std::sig_atomic_t stop = 0;
void on_signal(int /*signal*/) {
    stop = 1;
}

struct Slot {
    std::array<std::uint8_t, 2048> request{};
    std::array<std::uint8_t, cloudtime::proto::kHeaderSize> reply{};
    sockaddr_storage peer{};
    iovec iov{};
    msghdr message{};
};

constexpr std::uint64_t kSendFlag = 1;  // user_data = slot index * 2 + (send ? 1 : 0)

void arm_receive(io_uring& ring, int fd, Slot& slot, std::size_t index) {
    slot.iov = {slot.request.data(), slot.request.size()};
    slot.message = {};
    slot.message.msg_name = &slot.peer;
    slot.message.msg_namelen = sizeof(slot.peer);
    slot.message.msg_iov = &slot.iov;
    slot.message.msg_iovlen = 1;
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_recvmsg(sqe, fd, &slot.message, 0);
    io_uring_sqe_set_data64(sqe, index * 2);
}

void arm_send(io_uring& ring, int fd, Slot& slot, std::size_t index, std::size_t length) {
    slot.iov = {slot.reply.data(), length};
    slot.message.msg_iov = &slot.iov;
    slot.message.msg_iovlen = 1;
    slot.message.msg_control = nullptr;
    slot.message.msg_controllen = 0;
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_sendmsg(sqe, fd, &slot.message, 0);
    io_uring_sqe_set_data64(sqe, index * 2 + kSendFlag);
}
}  // namespace

int main(int argc, char** argv) {
    namespace ct = cloudtime;
    if (argc != 2 && argc != 3) {
        std::cerr << "usage: uring_reflector ADDR:PORT [DEPTH]\n";
        return 64;
    }
    auto address = ct::sys::parse_socket_address(argv[1]);
    if (!address) {
        std::cerr << "uring_reflector: " << address.error() << "\n";
        return 64;
    }
    const std::size_t depth = argc == 3 ? std::stoul(argv[2]) : 64;
    auto socket = ct::sys::UdpSocket::bind(
        *address, {.reuse_port = false, .nonblocking = false, .receive_buffer = 4 << 20});
    if (!socket) {
        std::cerr << "uring_reflector: " << socket.error() << "\n";
        return 1;
    }
    io_uring ring{};
    // Twice the slots: a slot's receive and send are never in flight together, but the queue
    // must take a whole round of either.
    if (const int rc = io_uring_queue_init(static_cast<unsigned>(2 * depth), &ring, 0); rc < 0) {
        std::cerr << "uring_reflector: io_uring_queue_init: " << std::strerror(-rc) << "\n";
        return 1;
    }
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    std::cout << "reflecting on udp " << socket->local_address().to_string() << " with io_uring"
              << std::endl;
    std::vector<Slot> slots(depth);
    for (std::size_t i = 0; i < depth; ++i) {
        arm_receive(ring, socket->fd(), slots[i], i);
    }
    std::vector<io_uring_cqe*> completions(2 * depth);
    std::uint64_t reflected = 0;
    while (stop == 0) {
        if (io_uring_submit_and_wait(&ring, 1) < 0) {
            continue;  // EINTR: look at `stop`
        }
        const unsigned count = io_uring_peek_batch_cqe(&ring, completions.data(),
                                                       static_cast<unsigned>(completions.size()));
        for (unsigned c = 0; c < count; ++c) {
            const std::uint64_t data = io_uring_cqe_get_data64(completions[c]);
            const int result = completions[c]->res;
            const std::size_t index = data / 2;
            Slot& slot = slots[index];
            if ((data & kSendFlag) != 0) {
                reflected += result > 0 ? 1 : 0;
                arm_receive(ring, socket->fd(), slot, index);
                continue;
            }
            const std::size_t length =
                result > 0 ? ct::bench::reflect(
                                 std::span(slot.request).first(static_cast<std::size_t>(result)),
                                 slot.reply)
                           : 0;
            if (length > 0) {
                arm_send(ring, socket->fd(), slot, index, length);
            } else {
                arm_receive(ring, socket->fd(), slot, index);
            }
        }
        io_uring_cq_advance(&ring, count);
    }
    io_uring_queue_exit(&ring);
    std::cout << "reflected " << reflected << std::endl;
    return 0;
}
