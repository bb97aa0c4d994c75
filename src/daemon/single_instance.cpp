// SPDX-License-Identifier: Apache-2.0
#include "daemon/single_instance.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "net/socket_owners.hpp"
#include "net/unix_listener.hpp"

namespace cloudtime::daemon {

namespace {
bool is_cloudtimed(const std::string& holder) {
    return holder.ends_with("(cloudtimed)") || holder.ends_with("(cloudtimed-http)");
}

Status check_free(sys::Transport transport, const sys::SocketAddress& address) {
    if (address.port() == 0 || !sys::address_taken(transport, address)) {
        return Done{};  // port 0: the kernel picks a free one
    }
    const auto holders = sys::processes_holding(transport, address);
    const auto what =
        fmt::format("{} {}", transport == sys::Transport::udp ? "udp" : "tcp", address.to_string());
    if (holders.empty()) {
        return Error{
            fmt::format("{} is already in use by a process not visible to cloudtimed "
                        "(another user's, or another cloudtimed's): stop it first, or "
                        "serve on another address",
                        what)};
    }
    if (!std::ranges::all_of(holders, is_cloudtimed)) {
        return Error{
            fmt::format("{} is already in use by {}, not a cloudtimed: stop it first, "
                        "or serve on another address",
                        what, fmt::join(holders, ", "))};
    }
    return Error{
        fmt::format("{} is already served by {}: one cloudtimed per address; stop that "
                    "one first",
                    what, fmt::join(holders, ", "))};
}
}  // namespace

Status check_single_instance(const config::Config& config) {
    for (const auto& address : config.listen) {
        if (auto free = check_free(sys::Transport::udp, address); !free) {
            return free;
        }
    }
    if (config.vendordata.enabled) {
        if (auto free = check_free(sys::Transport::tcp, config.vendordata.listen); !free) {
            return Error{"vendordata: " + free.error()};
        }
    }
    if (!config.status_socket.empty()) {
        if (auto holder = sys::UnixListener::holder(config.status_socket)) {
            return Error{fmt::format(
                "status socket {} is served by {}: one cloudtimed per status socket; stop that "
                "one first",
                config.status_socket, *holder)};
        }
    }
    return Done{};
}

}  // namespace cloudtime::daemon
