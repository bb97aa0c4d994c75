// SPDX-License-Identifier: Apache-2.0
#include "net/unix_listener.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "net/datagram_client.hpp"
#include "net/socket_owners.hpp"

namespace cloudtime::sys {

namespace {
Expected<UniqueFd> connect_to(const std::string& path) {
    auto address = unix_socket_address(path);
    if (!address) {
        return address.failure();
    }
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
        return os_error("socket(AF_UNIX)");
    }
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*address), sizeof(*address)) != 0) {
        return os_error("connect " + path);
    }
    return fd;
}

void set_timeout(int fd, int option, int timeout_ms) {
    timeval tv{timeout_ms / 1000, static_cast<suseconds_t>(timeout_ms % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof(tv));
}
}  // namespace

Expected<UnixListener> UnixListener::listen(const std::string& path) {
    auto address = unix_socket_address(path);
    if (!address) {
        return address.failure();
    }
    if (auto other = holder(path)) {
        return Error{path + " is served by another running process, " + *other};
    }
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    ::unlink(path.c_str());  // stale: nobody answers on it
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid()) {
        return os_error("socket(AF_UNIX)");
    }
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*address), sizeof(*address)) != 0) {
        return os_error("bind " + path);
    }
    UnixListener listener(std::move(fd), path);
    // Status is read-only and holds nothing secret: any local user may ask.
    if (::chmod(path.c_str(), 0666) != 0 || ::listen(listener.fd(), 8) != 0) {
        return os_error("listen " + path);
    }
    return listener;
}

std::optional<std::string> UnixListener::holder(const std::string& path) {
    auto connected = connect_to(path);
    if (!connected) {
        return std::nullopt;
    }
    return peer_process(connected->get());
}

UnixListener::UnixListener(UnixListener&& other) noexcept
    : fd_(std::move(other.fd_)), path_(std::exchange(other.path_, {})) {}

UnixListener::~UnixListener() {
    if (!path_.empty()) {
        ::unlink(path_.c_str());
    }
}

Status UnixListener::answer(std::string_view text) const {
    UniqueFd client(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client.valid()) {
        return errno == EAGAIN ? Status(Done{}) : Status(os_error("accept"));
    }
    set_timeout(client.get(), SO_SNDTIMEO, 200);  // a client that does not read cannot stall us
    while (!text.empty()) {
        const ssize_t n = ::send(client.get(), text.data(), text.size(), MSG_NOSIGNAL);
        if (n <= 0) {
            return os_error("status send");
        }
        text.remove_prefix(static_cast<std::size_t>(n));
    }
    return Done{};
}

Expected<std::string> read_unix_stream(const std::string& path, int timeout_ms) {
    auto fd = connect_to(path);
    if (!fd) {
        return fd.failure();
    }
    set_timeout(fd->get(), SO_RCVTIMEO, timeout_ms);
    std::string text;
    std::array<char, 4096> buffer{};
    for (;;) {
        const ssize_t n = ::recv(fd->get(), buffer.data(), buffer.size(), 0);
        if (n == 0) {
            return text;
        }
        if (n < 0) {
            return os_error("read " + path);
        }
        text.append(buffer.data(), static_cast<std::size_t>(n));
    }
}

}  // namespace cloudtime::sys
