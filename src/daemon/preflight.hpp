// SPDX-License-Identifier: Apache-2.0
// What cloudtimed checks before it starts anything, and `cloudtimed --check-config` checks
// too, so that a config that passes the check does not fail at start for these reasons: the
// server's user exists and is not root; the vendordata and NTS TLS files are readable, PEM, a
// pair; etcd's TLS files are readable; the NTS key file, when there is one, is a key set only
// its owner can read, which the user may read, in a directory the user may write.
// What works but will not serve as meant (the user cannot reach chronyd) is a warning.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "http/http_server.hpp"
#include "peers/etcd_client.hpp"
#include "util/expected.hpp"

namespace cloudtime::daemon {

using config::Config;  // the daemon runs what the config schema describes

// What the checks read, for start-up to use instead of reading it again.
struct Preflight {
    // The vendordata TLS files' contents (regular files of at most 1 MiB each), a usable pair;
    // empty without TLS.
    std::optional<sys::TlsCredentials> vendordata_tls;
    // nts.enabled: its certificate and key, a usable pair; with key_store = "etcd", the
    // endpoints and TLS material.
    std::optional<sys::TlsCredentials> nts_tls;
    std::optional<sys::EtcdOptions> nts_etcd;
    // chronyd's command port, when the user cannot write to chronyd's socket (as chrony makes
    // it: 0755 _chrony) and a command address is configured: ask there instead.
    std::optional<sys::SocketAddress> chrony_over_udp;
    std::vector<std::string> warnings;  // each a sentence with what to do about it
};

Expected<Preflight> preflight(const Config& config);

// The NTS certificate and key, read (regular files of at most 1 MiB) and checked as a pair;
// errors name the files. At start (as root) and before a reload applies anything (as the
// daemon's user).
Expected<sys::TlsCredentials> read_nts_credentials(const Config::Nts& nts);

}  // namespace cloudtime::daemon
