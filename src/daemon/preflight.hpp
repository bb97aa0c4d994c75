// What cloudtimed checks before it starts anything, and `cloudtimed --check-config` checks
// too, so that a config that passes the check does not fail at start for these reasons: the
// server's user exists and is not root; the vendordata TLS files are readable, PEM, a pair.
#pragma once

#include <optional>

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
};

Expected<Preflight> preflight(const Config& config);

}  // namespace cloudtime::daemon
