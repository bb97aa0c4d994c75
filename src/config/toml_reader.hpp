// SPDX-License-Identifier: Apache-2.0
// Reading typed, bounded values out of a TOML table, with errors that name the file, the
// line and the key ("cloudtimed.toml:12: server.threads must be between 0 and 1024, not -1").
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/socket_address.hpp"
#include "util/expected.hpp"

namespace cloudtime::config {

// The document, or its syntax error as "ORIGIN:LINE: what".
Expected<toml::table> parse_toml(std::string_view text, const std::string& origin);

class TomlReader {
  public:
    explicit TomlReader(std::string origin) : origin_(std::move(origin)) {}

    Error fail(const toml::source_region& where, const std::string& what) const;
    Error unknown(const toml::key& key, const std::string& section) const;

    Expected<std::string> string_of(const toml::key& key, const toml::node& node,
                                    const std::string& section) const;
    Expected<std::int64_t> integer_of(const toml::key& key, const toml::node& node,
                                      const std::string& section, std::int64_t lo,
                                      std::int64_t hi) const;
    // An array of non-empty strings.
    Expected<std::vector<std::string>> strings_of(const toml::key& key, const toml::node& node,
                                                  const std::string& section) const;

    Status read_string(const toml::key& key, const toml::node& node, const std::string& section,
                       std::string& out) const;
    Status read_bool(const toml::key& key, const toml::node& node, const std::string& section,
                     bool& out) const;
    // "ADDR:PORT" into `out`.
    Status read_address(const toml::key& key, const toml::node& node, const std::string& section,
                        sys::SocketAddress& out) const;
    // An array of prefixes ("10.0.0.0/8", "fd00::/8") into `out`.
    Status read_prefixes(const toml::key& key, const toml::node& node, const std::string& section,
                         std::vector<sys::Cidr>& out) const;
    Status read_seconds(const toml::key& key, const toml::node& node, const std::string& section,
                        double lo, double hi, double& out) const;
    // Reads a bounded integer into `out` (whose type holds [lo, hi]).
    template <typename T>
    Status read_integer(const toml::key& key, const toml::node& node, const std::string& section,
                        std::int64_t lo, std::int64_t hi, T& out) const {
        auto v = integer_of(key, node, section, lo, hi);
        if (!v) {
            return v.failure();
        }
        out = static_cast<T>(*v);
        return Done{};
    }

  private:
    std::string origin_;
};

}  // namespace cloudtime::config
