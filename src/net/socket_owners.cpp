// SPDX-License-Identifier: Apache-2.0
#include "net/socket_owners.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <span>
#include <sstream>

#include "sys/fd.hpp"

namespace cloudtime::sys {

namespace {
constexpr const char* kTcpListen = "0A";  // TCP_LISTEN in /proc/net/tcp's st column

std::string process_name(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    std::getline(in, name);
    return "pid " + std::to_string(pid) + (name.empty() ? "" : " (" + name + ")");
}

// /proc/net's "0100007F:007B": the address as the kernel's raw 32-bit words, the port in
// host order. Equal to `address`, or either is the wildcard address, with its port.
bool same_or_wildcard(const std::string& field, const SocketAddress& address) {
    const auto colon = field.find(':');
    if (colon == std::string::npos) {
        return false;
    }
    const std::string hex = field.substr(0, colon);
    if (std::stoul(field.substr(colon + 1), nullptr, 16) != address.port()) {
        return false;
    }
    std::array<std::uint8_t, 16> octets{};
    const std::size_t words = hex.size() / 8;
    if (words != (address.is_ipv6() ? 4U : 1U)) {
        return false;
    }
    for (std::size_t i = 0; i < words; ++i) {
        const auto word = static_cast<std::uint32_t>(std::stoul(hex.substr(i * 8, 8), nullptr, 16));
        std::memcpy(octets.data() + i * 4, &word, sizeof word);
    }
    const std::span<const std::uint8_t> held(octets.data(), words * 4);
    const auto mapped = address.mapped_octets();
    const auto wanted = std::span<const std::uint8_t>(mapped).last(held.size());
    const bool wildcard =
        std::all_of(held.begin(), held.end(), [](std::uint8_t o) { return o == 0; });
    return wildcard || address.is_wildcard() ||
           std::equal(held.begin(), held.end(), wanted.begin(), wanted.end());
}

std::set<std::string> socket_inodes(Transport transport, const SocketAddress& address) {
    const std::string table = std::string("/proc/net/") +
                              (transport == Transport::udp ? "udp" : "tcp") +
                              (address.is_ipv6() ? "6" : "");
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    std::set<std::string> inodes;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::array<std::string, 10> f;
        for (auto& field : f) {
            fields >> field;
        }
        if (!fields || (transport == Transport::tcp && f[3] != kTcpListen)) {
            continue;
        }
        try {
            if (same_or_wildcard(f[1], address)) {
                inodes.insert("socket:[" + f[9] + "]");
            }
        } catch (const std::exception&) {
            continue;  // a line this parser does not know: not ours to judge
        }
    }
    return inodes;
}
}  // namespace

bool address_taken(Transport transport, const SocketAddress& address) {
    UniqueFd probe(::socket(address.family(),
                            (transport == Transport::udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC,
                            0));
    if (!probe.valid()) {
        return false;
    }
    const int on = 1;
    if (transport == Transport::tcp) {  // connections in TIME_WAIT do not hold a listener's port
        (void)::setsockopt(probe.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    }
    if (address.is_ipv6()) {
        (void)::setsockopt(probe.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    }
    return ::bind(probe.get(), address.sockaddr_ptr(), address.length()) != 0 &&
           errno == EADDRINUSE;
}

std::vector<std::string> processes_holding(Transport transport, const SocketAddress& address) {
    const auto inodes = socket_inodes(transport, address);
    std::vector<std::string> holders;
    if (inodes.empty()) {
        return holders;
    }
    std::error_code ec;
    for (const auto& process : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string pid = process.path().filename();
        if (pid.find_first_not_of("0123456789") != std::string::npos ||
            std::stoi(pid) == ::getpid()) {
            continue;
        }
        std::error_code fd_ec;
        for (const auto& fd : std::filesystem::directory_iterator(process.path() / "fd", fd_ec)) {
            std::error_code link_ec;
            if (inodes.count(std::filesystem::read_symlink(fd.path(), link_ec).string()) != 0) {
                holders.push_back(process_name(std::stoi(pid)));
                break;
            }
        }
    }
    return holders;
}

std::string peer_process(int unix_fd) {
    ucred credentials{};
    socklen_t length = sizeof credentials;
    if (::getsockopt(unix_fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
        return "a process";
    }
    return process_name(credentials.pid);
}

}  // namespace cloudtime::sys
