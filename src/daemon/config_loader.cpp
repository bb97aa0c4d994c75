// SPDX-License-Identifier: Apache-2.0
#include "daemon/config_loader.hpp"

#include "sys/paths.hpp"

namespace cloudtime::daemon {

ConfigLoader::ConfigLoader(std::string path, ConfigOverrides overrides)
    : path_(std::move(path)),
      overrides_(std::move(overrides)),
      started_as_root_(sys::running_as_root()) {}

std::string ConfigLoader::origin() const {
    return path_.empty() ? std::string("embedded default config") : path_;
}

Expected<LoadedConfig> ConfigLoader::load() const {
    ConfigSource source{std::string(config::default_config_text()), origin()};
    if (!path_.empty()) {
        auto text = config::read_config_text(path_);
        if (!text) {
            return text.failure();
        }
        source.text = std::move(text).value();
    }
    auto parsed = config::parse_config(source.text, source.origin);
    if (!parsed) {
        return parsed.failure();
    }
    config::Config c = std::move(parsed).value();
    if (!overrides_.listen.empty()) {
        c.listen = overrides_.listen;
    }
    if (overrides_.threads) {
        c.threads = *overrides_.threads;
    }
    if (overrides_.status_socket) {
        c.status_socket = *overrides_.status_socket;
    }
    if (overrides_.runtime_directory) {
        c.runtime_directory = *overrides_.runtime_directory;
    }
    if (overrides_.log_level) {
        c.log_level = *overrides_.log_level;
    }
    if (!started_as_root_) {
        c.user.clear();
    }
    return LoadedConfig{std::move(c), std::move(source)};
}

}  // namespace cloudtime::daemon
