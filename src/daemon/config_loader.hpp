// SPDX-License-Identifier: Apache-2.0
// Reading cloudtimed's configuration: the file (or the embedded default) and what the command
// line overrides, the same way at start and on every reload (SIGHUP).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "net/socket_address.hpp"
#include "util/expected.hpp"
#include "vendordata/vendordata_process.hpp"

namespace cloudtime::daemon {

// Command-line flags that replace config keys, already checked (a bad flag is a usage error
// before anything is read).
struct ConfigOverrides {
    std::vector<sys::SocketAddress> listen;  // empty: server.listen as configured
    std::optional<unsigned> threads;
    std::optional<std::string> status_socket;
    std::optional<std::string> runtime_directory;
    std::optional<std::string> log_level;
};

struct LoadedConfig {
    config::Config config;
    ConfigSource source;
};

class ConfigLoader {
  public:
    // `path` empty: the embedded default.
    ConfigLoader(std::string path, ConfigOverrides overrides);

    // Errors as "FILE:LINE: what". Not started as root, server.user is dropped: there is
    // nothing to drop, it runs as whoever started it (a reload, after the drop, reads the
    // same as the start did).
    Expected<LoadedConfig> load() const;
    std::string origin() const;

  private:
    std::string path_;
    ConfigOverrides overrides_;
    bool started_as_root_;
};

}  // namespace cloudtime::daemon
