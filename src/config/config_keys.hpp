// SPDX-License-Identifier: Apache-2.0
// The one table of cloudtimed's config keys: each key once, with its type and range, its
// default, whether a reload applies it, a one-line summary and its reference text, and how it
// is read. The parser, the reload policy, `--print-default-config`, the operator guide's key
// tables and cloudtimed.toml(5) are all made from it (config_reference.hpp); a test fails when
// the docs in the repository and the table differ.
#pragma once

#include <toml++/toml.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/toml_reader.hpp"
#include "util/expected.hpp"

namespace cloudtime::config {

enum class KeyReload : std::uint8_t {
    applied,  // a reload applies it
    restart,  // only a restart does (set up as root, or before the threads started)
};

// What the reference says of a key's value, with lo and hi for ranges.
enum class KeyType : std::uint8_t { boolean, integer, seconds, choice, other };

struct ConfigKey;

// One key's value as a file gives it, with what it takes to read it and to say what is wrong
// ("FILE:LINE: section.key must be ...").
struct KeyReading {
    const TomlReader& reader;
    const ConfigKey& spec;
    std::string_view section;
    const toml::key& key;
    const toml::node& node;

    std::string name() const;  // "server.threads"
    Error fail(const std::string& what) const;
    Status boolean(bool& out) const;
    Status text(std::string& out) const;
    // An absolute path (not empty).
    Status absolute_path(std::string& out) const;
    Status address(sys::SocketAddress& out) const;
    Status prefixes(std::vector<sys::Cidr>& out) const;
    Expected<std::vector<std::string>> strings() const;
    Status strings(std::vector<std::string>& out) const;
    // An integer within [spec.lo, spec.hi].
    Expected<std::int64_t> integer() const;
    template <typename T>
    Status integer(T& out) const {
        auto v = integer();
        if (!v) {
            return v.failure();
        }
        out = static_cast<T>(*v);
        return Done{};
    }
    // A number of seconds within [spec.lo, spec.hi].
    Status seconds(double& out) const;
    // Which of spec.choices (space-separated words) the string is.
    Expected<std::size_t> choice() const;
    // The value standing for that word: `values` in the order of spec.choices.
    template <typename T, std::size_t N>
    Status choose(const std::array<T, N>& values, T& out) const {
        auto index = choice();
        if (!index) {
            return index.failure();
        }
        out = values.at(*index);
        return Done{};
    }
    // A string that must not be empty.
    Status nonempty_text(std::string& out) const;
};

using KeyRead = Status (*)(const KeyReading& value, Config& config);
// Whether two configs agree on a key (for the keys only a restart applies).
using KeySame = bool (*)(const Config& a, const Config& b);

struct ConfigKey {
    std::string_view name;
    std::string_view value;  // the default, as TOML writes it
    KeyType type = KeyType::other;
    KeyReload reload = KeyReload::applied;
    double lo = 0;  // integer, seconds: the range
    double hi = 0;
    std::string_view choices{};  // choice: the words, space-separated
    std::string_view kind{};     // other: what the value is ("array of \"ADDR:PORT\"")
    std::string_view summary{};  // one line: the default config's comment
    std::string_view doc{};      // the reference (markdown)
    KeyRead read = nullptr;
    KeySame same = nullptr;  // restart keys
};

// A choice key's words, in the order of `choices`.
std::vector<std::string_view> choice_words(const ConfigKey& key);

// Checks across a section's keys, once all of them are read ("goes together", windows).
using SectionCheck = Status (*)(const TomlReader& reader, const toml::table& table,
                                const Config& config);

struct ConfigSection {
    std::string_view name;
    std::string_view summary{};  // one line: the default config's comment on the [section] line
    std::span<const ConfigKey> keys;
    SectionCheck check = nullptr;
};

// Every section, in the order of the default config and the reference.
std::span<const ConfigSection> config_sections();
const ConfigSection* find_section(std::string_view name);
const ConfigKey* find_key(const ConfigSection& section, std::string_view name);

// The sections of each room (config_sections joins them).
std::span<const ConfigSection> server_sections();  // server, clock, leap
std::span<const ConfigSection> access_sections();  // rate_limit, access
std::span<const ConfigSection> tenant_sections();  // tenant_networks
std::span<const ConfigSection> vendordata_sections();
std::span<const ConfigSection> nts_sections();
std::span<const ConfigSection> output_sections();  // status, metrics, log

// The keys (as the file names them, "server.threads") whose value in `next` differs from the
// one `started` with and that only a restart applies.
std::vector<std::string> keys_needing_restart(const Config& started, const Config& next);

}  // namespace cloudtime::config
