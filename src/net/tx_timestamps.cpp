// SPDX-License-Identifier: Apache-2.0
#include "net/tx_timestamps.hpp"

#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sys/clock.hpp"
#include "sys/fd.hpp"

namespace cloudtime::sys {

namespace {
// What the socket reports: software stamps only. A card's raw hardware stamps count its own
// clock, not the system's, and are not asked for (no conversion from it is built).
// Which sent datagrams are stamped is asked per datagram.
constexpr unsigned kReportFlags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |
                                  SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;
// Asked for by one datagram: its software transmit stamp.
constexpr std::uint32_t kStampThisDatagram = SOF_TIMESTAMPING_TX_SOFTWARE;

Status set_flags(int fd, unsigned flags) {
    if (::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof(flags)) != 0) {
        return os_error("SO_TIMESTAMPING");
    }
    return Done{};
}

bool is_zero(const timespec& ts) {
    return ts.tv_sec == 0 && ts.tv_nsec == 0;
}
}  // namespace

Status enable_timestamping(int fd) {
    return set_flags(fd, kReportFlags);
}

Status restart_stamp_keys(int fd) {
    // The counter restarts when OPT_ID is switched on again.
    if (auto off = set_flags(fd, kReportFlags & ~static_cast<unsigned>(SOF_TIMESTAMPING_OPT_ID));
        !off) {
        return off;
    }
    return set_flags(fd, kReportFlags);
}

std::size_t stamp_request_space() {
    return CMSG_SPACE(sizeof(kStampThisDatagram));
}

std::size_t write_stamp_request(std::span<char> control, std::size_t used) {
    if (control.size() < used + stamp_request_space()) {
        return used;
    }
    auto* c = reinterpret_cast<cmsghdr*>(control.data() + used);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SO_TIMESTAMPING;
    c->cmsg_len = CMSG_LEN(sizeof(kStampThisDatagram));
    std::memcpy(CMSG_DATA(c), &kStampThisDatagram, sizeof(kStampThisDatagram));
    return used + stamp_request_space();
}

TransmitStampReader::TransmitStampReader(std::size_t capacity)
    : capacity_(capacity), controls_(capacity), iov_(capacity), messages_(capacity) {}

std::size_t TransmitStampReader::read(int fd, std::vector<TransmitStamp>& out) {
    for (std::size_t i = 0; i < capacity_; ++i) {
        iov_[i] = {payload_.data(), payload_.size()};
        msghdr& h = messages_[i].msg_hdr;
        h = msghdr{};
        h.msg_iov = &iov_[i];
        h.msg_iovlen = 1;
        h.msg_control = controls_[i].data();
        h.msg_controllen = controls_[i].size();
    }
    const int n = ::recvmmsg(fd, messages_.data(), static_cast<unsigned>(capacity_),
                             MSG_ERRQUEUE | MSG_DONTWAIT, nullptr);
    if (n <= 0) {
        return 0;
    }
    std::size_t stamps = 0;
    for (int i = 0; i < n; ++i) {
        msghdr& h = messages_[static_cast<std::size_t>(i)].msg_hdr;
        const scm_timestamping* times = nullptr;
        const sock_extended_err* error = nullptr;
        for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING &&
                c->cmsg_len >= CMSG_LEN(sizeof(scm_timestamping))) {
                times = reinterpret_cast<const scm_timestamping*>(CMSG_DATA(c));
            } else if (((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
                        (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) &&
                       c->cmsg_len >= CMSG_LEN(sizeof(sock_extended_err))) {
                error = reinterpret_cast<const sock_extended_err*>(CMSG_DATA(c));
            }
        }
        if (times == nullptr || error == nullptr || error->ee_errno != ENOMSG ||
            error->ee_origin != SO_EE_ORIGIN_TIMESTAMPING || error->ee_info != SCM_TSTAMP_SND) {
            continue;
        }
        if (is_zero(times->ts[0])) {
            continue;
        }
        out.push_back({error->ee_data, from_timespec(times->ts[0])});
        ++stamps;
    }
    return stamps;
}

std::optional<proto::UnixTime> wait_transmit_stamp(int fd, std::uint32_t key, int timeout_ms) {
    TransmitStampReader reader(4);
    std::vector<TransmitStamp> stamps;
    for (int waited_us = 0; waited_us <= timeout_ms * 1000; waited_us += 100) {
        stamps.clear();
        reader.read(fd, stamps);
        for (const TransmitStamp& stamp : stamps) {
            if (stamp.key == key) {
                return stamp.time;
            }
        }
        ::usleep(100);
    }
    return std::nullopt;
}

}  // namespace cloudtime::sys
