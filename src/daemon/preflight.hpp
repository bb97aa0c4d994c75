// What cloudtimed checks before it starts anything, and `cloudtimed --check-config` checks
// too, so that a config that passes the check does not fail at start for these reasons: the
// server's user exists and is not root; the vendordata TLS files are readable, PEM, a pair.
// What works but will not serve as meant (the user cannot reach chronyd) is a warning.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "sys/http_server.hpp"
#include "util/expected.hpp"

namespace cloudtime::daemon {

using config::Config;  // the daemon runs what the config schema describes

// What the checks read, for start-up to use instead of reading it again.
struct Preflight {
    // The vendordata TLS files' contents (regular files of at most 1 MiB each), a usable pair;
    // empty without TLS.
    std::optional<sys::TlsCredentials> vendordata_tls;
    // chronyd's command port, when the user cannot write to chronyd's socket (as chrony makes
    // it: 0755 _chrony) and a command address is configured: ask there instead.
    std::optional<sys::SocketAddress> chrony_over_udp;
    std::vector<std::string> warnings;  // each a sentence with what to do about it
};

Expected<Preflight> preflight(const Config& config);

}  // namespace cloudtime::daemon
