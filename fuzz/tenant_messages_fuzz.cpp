// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the tenant-network channel's messages (server/tenant_messages), both ways
// across a trust boundary: the privileged helper (root) reads the unprivileged server's
// options, the server reads the helper's namespace messages. The first octet says whether a
// descriptor came with the text. Never an exception; options that read are written back to
// the same options, with every number within its field's range; a helper message that reads
// is written back to the same text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tenant/tenant_messages.hpp"

namespace s = cloudtime::server;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) {
        return 0;
    }
    const bool with_fd = (data[0] & 1U) != 0;
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (const auto options = s::parse_options_message(text)) {
        const auto again = s::parse_options_message(s::options_message(*options));
        if (!again || *again != *options || options->router.local_port == 0 ||
            options->receive_buffer < 0 || options->receive_buffer > (1 << 30)) {
            std::abort();
        }
    }
    if (const auto message = s::parse_helper_message(text, with_fd)) {
        if (s::carries_fd(message->kind) != with_fd || s::helper_message_text(*message) != text) {
            std::abort();
        }
    }
    return 0;
}
