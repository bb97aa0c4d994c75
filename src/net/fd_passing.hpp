// SPDX-License-Identifier: Apache-2.0
// Passing sockets between processes over a Unix SOCK_SEQPACKET channel (SCM_RIGHTS): how
// the privileged tenant-network helper hands ready sockets to the unprivileged server.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "sys/fd.hpp"
#include "util/expected.hpp"

namespace cloudtime::sys {

// A connected pair of SOCK_SEQPACKET sockets (message boundaries kept, EOF when one end goes).
Expected<std::pair<UniqueFd, UniqueFd>> make_channel();

// The largest message either end takes.
inline constexpr std::size_t kMaxChannelMessage = 65536;

// One message: `text` and, when `fd` >= 0, a duplicate of that descriptor.
Status send_message(int channel, std::string_view text, int fd = -1);

struct ChannelMessage {
    std::string text;
    UniqueFd fd;  // invalid when the message carried none
};
// Blocks for the next message; nullopt when the other end closed the channel (EOF), an error
// (with errno) when receiving failed.
Expected<std::optional<ChannelMessage>> receive_message(int channel);

// Shuts both directions of the channel: a thread blocked in receive_message() on it, here or
// in the process at the other end, wakes with EOF.
void shut_channel(int channel);

}  // namespace cloudtime::sys
