// SPDX-License-Identifier: Apache-2.0
#include "config/config_keys.hpp"

#include <vector>

namespace cloudtime::config {

std::string KeyReading::name() const {
    return std::string(section) + "." + std::string(key.str());
}

Error KeyReading::fail(const std::string& what) const {
    return reader.fail(node.source(), what);
}

Status KeyReading::boolean(bool& out) const {
    return reader.read_bool(key, node, std::string(section), out);
}

Status KeyReading::text(std::string& out) const {
    return reader.read_string(key, node, std::string(section), out);
}

Status KeyReading::nonempty_text(std::string& out) const {
    std::string value;
    if (auto s = text(value); !s) {
        return s;
    }
    if (value.empty()) {
        return fail(name() + " must not be empty");
    }
    out = std::move(value);
    return Done{};
}

Status KeyReading::absolute_path(std::string& out) const {
    std::string path;
    if (auto s = text(path); !s) {
        return s;
    }
    if (path.empty() || path.front() != '/') {
        return fail(name() + " must be an absolute path");
    }
    out = std::move(path);
    return Done{};
}

Status KeyReading::address(sys::SocketAddress& out) const {
    return reader.read_address(key, node, std::string(section), out);
}

Status KeyReading::prefixes(std::vector<sys::Cidr>& out) const {
    return reader.read_prefixes(key, node, std::string(section), out);
}

Expected<std::vector<std::string>> KeyReading::strings() const {
    return reader.strings_of(key, node, std::string(section));
}

Status KeyReading::strings(std::vector<std::string>& out) const {
    auto list = strings();
    if (!list) {
        return list.failure();
    }
    out = std::move(list).value();
    return Done{};
}

Expected<std::int64_t> KeyReading::integer() const {
    return reader.integer_of(key, node, std::string(section), static_cast<std::int64_t>(spec.lo),
                             static_cast<std::int64_t>(spec.hi));
}

Status KeyReading::seconds(double& out) const {
    return reader.read_seconds(key, node, std::string(section), spec.lo, spec.hi, out);
}

Expected<std::size_t> KeyReading::choice() const {
    auto given = reader.string_of(key, node, std::string(section));
    if (!given) {
        return given.failure();
    }
    const std::vector<std::string_view> words = choice_words(spec);
    std::string listed;
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (words[i] == *given) {
            return i;
        }
        listed += (i == 0                  ? ""
                   : i + 1 == words.size() ? " or "
                                           : ", ") +
                  std::string("\"") + std::string(words[i]) + "\"";
    }
    return fail(name() + " must be " + listed + ", not \"" + *given + "\"");
}

std::vector<std::string_view> choice_words(const ConfigKey& key) {
    std::vector<std::string_view> words;
    for (std::size_t at = 0; at < key.choices.size();) {
        const std::size_t end = std::min(key.choices.find(' ', at), key.choices.size());
        words.push_back(key.choices.substr(at, end - at));
        at = end + 1;
    }
    return words;
}

std::span<const ConfigSection> config_sections() {
    static const std::vector<ConfigSection> all = [] {
        std::vector<ConfigSection> joined;
        for (const auto part : {server_sections(), access_sections(), tenant_sections(),
                                vendordata_sections(), nts_sections(), output_sections()}) {
            joined.insert(joined.end(), part.begin(), part.end());
        }
        return joined;
    }();
    return all;
}

const ConfigSection* find_section(std::string_view name) {
    for (const auto& section : config_sections()) {
        if (section.name == name) {
            return &section;
        }
    }
    return nullptr;
}

const ConfigKey* find_key(const ConfigSection& section, std::string_view name) {
    for (const auto& key : section.keys) {
        if (key.name == name) {
            return &key;
        }
    }
    return nullptr;
}

std::vector<std::string> keys_needing_restart(const Config& started, const Config& next) {
    std::vector<std::string> changed;
    for (const auto& section : config_sections()) {
        for (const auto& key : section.keys) {
            if (key.reload == KeyReload::restart && !key.same(started, next)) {
                changed.push_back(std::string(section.name) + "." + std::string(key.name));
            }
        }
    }
    return changed;
}

}  // namespace cloudtime::config
