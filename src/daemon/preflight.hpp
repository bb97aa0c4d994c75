// What cloudtimed checks before it starts anything, and `cloudtimed --check-config` checks
// too, so that a config that passes the check does not fail at start for these reasons: the
// server's user exists and is not root; the vendordata TLS files are readable, PEM, a pair.
#pragma once

#include "config/config.hpp"
#include "sys/http_server.hpp"
#include "util/expected.hpp"

namespace cloudtime::daemon {

using config::Config;  // the daemon runs what the config schema describes

Status preflight(const Config& config);

// The vendordata TLS files' contents (each a regular file of at most 1 MiB), checked to be a
// usable pair; errors name the files.
Expected<sys::TlsCredentials> read_tls_credentials(const Config::Vendordata& vendordata);

}  // namespace cloudtime::daemon
