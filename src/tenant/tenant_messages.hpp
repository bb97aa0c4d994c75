// SPDX-License-Identifier: Apache-2.0
// What the privileged tenant-network helper and the unprivileged server say to each other over
// their SOCK_SEQPACKET channel (server/tenant_channel.hpp), without I/O. Both directions cross
// a trust boundary: the helper runs as root and reads the server's options; the server reads
// what the helper says about namespaces. Whatever does not read as one of these is an error.
//
// From the helper: "A\t<namespace>\t<ADDR:PORT>" + fd (attached), "K\t<namespace>\t<ADDR:PORT>"
// + fd (the NTS-KE listener beside that NTP socket), "R\t<namespace>" (released),
// "C\t<namespace>\t<ADDR:PORT>" (that socket closed), "W\t<namespace>\t<what it misses>" (""
// once nothing). From the server: "reconcile" (SIGHUP) and "options\t<JSON>" (a reload's
// new settings).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tenant/tenant_networks.hpp"
#include "util/expected.hpp"

namespace cloudtime::server {

// A reload's settings for the helper, and back.
std::string options_message(const TenantNetworkOptions& options);
Expected<TenantNetworkOptions> parse_options_message(std::string_view text);

struct HelperMessage {
    enum class Kind : char {
        attached = 'A',
        attached_ke = 'K',
        released = 'R',
        closed = 'C',
        waiting = 'W',
    };
    Kind kind = Kind::released;
    std::string ns;
    std::string label;  // ADDR:PORT, or what the namespace misses (waiting); none when released
    friend bool operator==(const HelperMessage&, const HelperMessage&) = default;
};

// Whether a message of this kind comes with a descriptor (attached, attached_ke).
bool carries_fd(HelperMessage::Kind kind);
std::string helper_message_text(const HelperMessage& message);
// `with_fd`: a descriptor came with the text. None: not a message the helper sends.
std::optional<HelperMessage> parse_helper_message(std::string_view text, bool with_fd);

}  // namespace cloudtime::server
