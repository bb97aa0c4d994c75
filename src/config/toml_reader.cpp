// SPDX-License-Identifier: Apache-2.0
#include "config/toml_reader.hpp"

#include <sstream>

namespace cloudtime::config {

namespace {
std::string name_of(const std::string& section, const toml::key& key) {
    return section + "." + std::string(key.str());
}

std::string number_text(double v) {
    std::ostringstream out;
    out << v;
    return out.str();
}
}  // namespace

Expected<toml::table> parse_toml(std::string_view text, const std::string& origin) {
    try {
        return toml::parse(text, origin);
    } catch (const toml::parse_error& e) {
        return Error{origin + ":" + std::to_string(e.source().begin.line) + ": " +
                     std::string(e.description())};
    }
}

Error TomlReader::fail(const toml::source_region& where, const std::string& what) const {
    return Error{origin_ + ":" + std::to_string(where.begin.line) + ": " + what};
}

Error TomlReader::unknown(const toml::key& key, const std::string& section) const {
    return fail(key.source(), "unknown key '" + std::string(key.str()) + "' in [" + section + "]");
}

Expected<std::string> TomlReader::string_of(const toml::key& key, const toml::node& node,
                                            const std::string& section) const {
    if (const auto v = node.value<std::string>(); v && node.is_string()) {
        return *v;
    }
    return fail(node.source(), name_of(section, key) + " must be a string");
}

Expected<std::int64_t> TomlReader::integer_of(const toml::key& key, const toml::node& node,
                                              const std::string& section, std::int64_t lo,
                                              std::int64_t hi) const {
    const auto v = node.value<std::int64_t>();
    const std::string name = name_of(section, key);
    if (!node.is_integer() || !v) {
        return fail(node.source(), name + " must be an integer");
    }
    if (*v < lo || *v > hi) {
        return fail(node.source(), name + " must be between " + std::to_string(lo) + " and " +
                                       std::to_string(hi) + ", not " + std::to_string(*v));
    }
    return *v;
}

Expected<std::vector<std::string>> TomlReader::strings_of(const toml::key& key,
                                                          const toml::node& node,
                                                          const std::string& section) const {
    const std::string name = name_of(section, key);
    const toml::array* list = node.as_array();
    if (list == nullptr) {
        return fail(node.source(), name + " must be an array of strings");
    }
    std::vector<std::string> out;
    for (const toml::node& item : *list) {
        const auto text = item.value<std::string>();
        if (!item.is_string() || !text || text->empty()) {
            return fail(item.source(), name + " entries must be non-empty strings");
        }
        out.push_back(*text);
    }
    return out;
}

Status TomlReader::read_string(const toml::key& key, const toml::node& node,
                               const std::string& section, std::string& out) const {
    auto text = string_of(key, node, section);
    if (!text) {
        return text.failure();
    }
    out = *text;
    return Done{};
}

Status TomlReader::read_bool(const toml::key& key, const toml::node& node,
                             const std::string& section, bool& out) const {
    const auto v = node.value<bool>();
    if (!node.is_boolean() || !v) {
        return fail(node.source(), name_of(section, key) + " must be true or false");
    }
    out = *v;
    return Done{};
}

Status TomlReader::read_address(const toml::key& key, const toml::node& node,
                                const std::string& section, sys::SocketAddress& out) const {
    auto text = string_of(key, node, section);
    if (!text) {
        return text.failure();
    }
    auto address = sys::parse_socket_address(*text);
    if (!address) {
        return fail(node.source(), name_of(section, key) + ": " + address.error());
    }
    out = *address;
    return Done{};
}

Status TomlReader::read_prefixes(const toml::key& key, const toml::node& node,
                                 const std::string& section, std::vector<sys::Cidr>& out) const {
    auto list = strings_of(key, node, section);
    if (!list) {
        return list.failure();
    }
    std::vector<sys::Cidr> prefixes;
    for (const auto& text : *list) {
        auto cidr = sys::parse_cidr(text);
        if (!cidr) {
            return fail(node.source(), name_of(section, key) + ": " + cidr.error());
        }
        prefixes.push_back(*cidr);
    }
    out = std::move(prefixes);
    return Done{};
}

Status TomlReader::read_seconds(const toml::key& key, const toml::node& node,
                                const std::string& section, double lo, double hi,
                                double& out) const {
    const auto v = node.value<double>();
    if (!(node.is_floating_point() || node.is_integer()) || !v || !(*v >= lo) || *v > hi) {
        return fail(node.source(), name_of(section, key) + " must be a number of seconds between " +
                                       number_text(lo) + " and " + number_text(hi));
    }
    out = *v;
    return Done{};
}

}  // namespace cloudtime::config
