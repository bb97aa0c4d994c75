// SPDX-License-Identifier: Apache-2.0
#include "net/datagram_client.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "sys/poller.hpp"

namespace cloudtime::sys {

Expected<sockaddr_un> unix_socket_address(const std::string& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(address.sun_path)) {
        return Error{"socket path '" + path + "' is empty or too long"};
    }
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    return address;
}

namespace {
// Several clients in one process (a reconnect before the old one is gone) need distinct names.
std::atomic<unsigned> next_client{0};
}  // namespace

namespace {
std::string client_name(const std::string& prefix, long pid, unsigned n) {
    return prefix + "." + std::to_string(pid) + "." + std::to_string(n) + ".sock";
}
}  // namespace

std::vector<std::string> remove_stale_clients(const std::string& directory,
                                              const std::string& prefix) {
    std::vector<std::string> removed;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(directory, ec)) {
        const std::string name = entry.path().filename();
        // prefix.PID.N.sock, exactly as connect_unix names them
        long pid = 0;
        unsigned n = 0;
        if (name.rfind(prefix + ".", 0) != 0 ||
            std::sscanf(name.c_str() + prefix.size(), ".%ld.%u.sock", &pid, &n) != 2 || pid <= 0 ||
            name != client_name(prefix, pid, n) ||
            std::filesystem::exists("/proc/" + std::to_string(pid))) {
            continue;
        }
        if (::unlink(entry.path().c_str()) == 0) {
            removed.push_back(entry.path());
        }
    }
    return removed;
}

Expected<DatagramClient> DatagramClient::connect_udp(const SocketAddress& server) {
    UniqueFd fd(::socket(server.is_ipv6() ? AF_INET6 : AF_INET,
                         SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid()) {
        return os_error("socket(AF_INET)");
    }
    if (::connect(fd.get(), server.sockaddr_ptr(), server.length()) != 0) {
        return os_error("connect " + server.to_string());
    }
    return DatagramClient(std::move(fd), {});
}

Expected<DatagramClient> DatagramClient::connect_unix(const std::string& server_path,
                                                      const std::string& directory,
                                                      const std::string& prefix) {
    auto server = unix_socket_address(server_path);
    if (!server) {
        return server.failure();
    }
    const std::string own_path =
        directory + "/" + client_name(prefix, ::getpid(), next_client.fetch_add(1));
    auto own = unix_socket_address(own_path);
    if (!own) {
        return own.failure();
    }
    UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid()) {
        return os_error("socket(AF_UNIX)");
    }
    ::unlink(own_path.c_str());  // a stale file left by a crashed process of the same pid
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*own), sizeof(*own)) != 0) {
        return os_error("bind " + own_path);
    }
    DatagramClient client(std::move(fd), own_path);
    if (::chmod(own_path.c_str(), 0666) != 0) {
        return os_error("chmod " + own_path);
    }
    if (::connect(client.fd_.get(), reinterpret_cast<const sockaddr*>(&*server), sizeof(*server)) !=
        0) {
        return os_error("connect " + server_path);
    }
    return client;
}

DatagramClient::DatagramClient(DatagramClient&& other) noexcept
    : fd_(std::move(other.fd_)), own_path_(std::exchange(other.own_path_, {})) {}

DatagramClient::~DatagramClient() {
    if (!own_path_.empty()) {
        ::unlink(own_path_.c_str());
    }
}

Expected<std::size_t> DatagramClient::exchange(std::span<const std::uint8_t> request,
                                               std::span<std::uint8_t> reply,
                                               int timeout_ms) const {
    // Drop a late reply to an earlier request that timed out.
    while (::recv(fd_.get(), reply.data(), reply.size(), MSG_DONTWAIT) >= 0) {
    }
    if (::send(fd_.get(), request.data(), request.size(), 0) < 0) {
        return os_error("send");
    }
    if (!wait_readable(fd_.get(), timeout_ms)) {
        return Error{"no reply within " + std::to_string(timeout_ms) + " ms", ETIMEDOUT};
    }
    const ssize_t n = ::recv(fd_.get(), reply.data(), reply.size(), 0);
    if (n < 0) {
        return os_error("recv");
    }
    return static_cast<std::size_t>(n);
}

}  // namespace cloudtime::sys
