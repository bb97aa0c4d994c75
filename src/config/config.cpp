// SPDX-License-Identifier: Apache-2.0
#include "config/config.hpp"

#include <toml++/toml.h>
#include <cstdlib>

#include "config/config_keys.hpp"
#include "config/toml_reader.hpp"
#include "sys/text_file.hpp"

namespace cloudtime::config {

namespace {

// Each [section] through the key table: every key read by its reader, then the section's
// checks across its keys. Only the sections and keys a file names are read; the others keep
// their defaults.
Status apply_root(const TomlReader& reader, const toml::table& root, Config& c) {
    for (const auto& [key, node] : root) {
        const std::string name(key.str());
        const toml::table* table = node.as_table();
        if (table == nullptr) {
            return reader.fail(key.source(), "'" + name + "' must be a table ([" + name + "])");
        }
        const ConfigSection* section = find_section(name);
        if (section == nullptr) {
            return reader.fail(key.source(), "unknown section [" + name + "]");
        }
        for (const auto& [entry, value] : *table) {
            const ConfigKey* spec = find_key(*section, entry.str());
            if (spec == nullptr) {
                return reader.unknown(entry, name);
            }
            const KeyReading reading{reader, *spec, section->name, entry, value};
            if (Status s = spec->read(reading, c); !s) {
                return s;
            }
        }
        if (section->check != nullptr) {
            if (Status s = section->check(reader, *table, c); !s) {
                return s;
            }
        }
    }
    return Done{};
}

Status apply_text(std::string_view text, const std::string& origin, Config& config) {
    auto root = parse_toml(text, origin);
    if (!root) {
        return root.failure();
    }
    return apply_root(TomlReader(origin), *root, config);
}

}  // namespace

const char* clock_source_name(ClockSourceKind kind) {
    switch (kind) {
        case ClockSourceKind::automatic:
            return "auto";
        case ClockSourceKind::chrony:
            return "chrony";
        case ClockSourceKind::kernel:
            return "kernel";
        case ClockSourceKind::local:
            return "local";
    }
    return "?";
}

Config default_config() {
    Config config;
    // The embedded default is part of the build and covered by tests; it cannot fail.
    const Status s = apply_text(default_config_text(), "<embedded default>", config);
    if (!s) {
        std::abort();
    }
    return config;
}

Expected<Config> parse_config(std::string_view text, const std::string& origin) {
    Config config = default_config();
    if (Status s = apply_text(text, origin, config); !s) {
        return s.failure();
    }
    return config;
}

Expected<std::string> read_config_text(const std::string& path) {
    // A pipe too (--config /dev/stdin); never a FIFO that blocks or a device without end.
    auto text = sys::read_text_file(path, kConfigLimit, true);
    if (!text) {
        return Error{path + ": cannot read config file: " + text.error()};
    }
    return text;
}

Expected<Config> load_config_file(const std::string& path) {
    auto text = read_config_text(path);
    if (!text) {
        return text.failure();
    }
    return parse_config(*text, path);
}

}  // namespace cloudtime::config
