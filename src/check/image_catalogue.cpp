// SPDX-License-Identifier: Apache-2.0
#include "check/image_catalogue.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <set>

#include "config/toml_reader.hpp"

namespace cloudtime::check {

namespace {
struct OutcomeName {
    ImageOutcome outcome;
    const char* word;
};
constexpr std::array<OutcomeName, 5> kOutcomes{{{ImageOutcome::pass, "pass"},
                                                {ImageOutcome::warn, "warn"},
                                                {ImageOutcome::fail, "fail"},
                                                {ImageOutcome::opted_out, "opted-out"},
                                                {ImageOutcome::error, "error"}}};

bool valid_name(std::string_view name) {
    return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
    });
}

std::string resolved(const std::string& path, const std::string& directory) {
    const std::filesystem::path p(path);
    return p.is_absolute() || directory.empty() ? path
                                                : (std::filesystem::path(directory) / p).string();
}

class CatalogueReader {
  public:
    CatalogueReader(const std::string& origin, std::string directory)
        : toml_(origin), directory_(std::move(directory)) {}

    // The top level's defaults: config, timeout, memory.
    Status defaults(const toml::key& key, const toml::node& node, CatalogueEntry& d) const {
        if (key == "config") {
            return path_of(key, node, "catalogue", d.config);
        }
        if (key == "timeout") {
            return toml_.read_integer(key, node, "catalogue", 30, 7200, d.timeout_s);
        }
        if (key == "memory") {
            return toml_.read_integer(key, node, "catalogue", 256, 65536, d.memory_mb);
        }
        return toml_.unknown(key, "catalogue");
    }

    Expected<CatalogueEntry> entry(const toml::table& table, const CatalogueEntry& defaults) const {
        CatalogueEntry e = defaults;
        const std::string section = "image";
        for (const auto& [key, node] : table) {
            Status s = Done{};
            if (key == "name") {
                s = toml_.read_string(key, node, section, e.name);
                if (s && !valid_name(e.name)) {
                    s = toml_.fail(node.source(), "image.name '" + e.name +
                                                      "' must be 1-64 letters, digits, '.', "
                                                      "'_' or '-'");
                }
            } else if (key == "path") {
                s = path_of(key, node, section, e.image);
            } else if (key == "config" || key == "user_data" || key == "config_drive") {
                s = path_of(key, node, section,
                            key == "config"      ? e.config
                            : key == "user_data" ? e.user_data
                                                 : e.config_drive);
            } else if (key == "vendordata" || key == "dhcp") {
                s = toml_.read_bool(key, node, section, key == "dhcp" ? e.dhcp : e.vendordata);
            } else if (key == "timeout") {
                s = toml_.read_integer(key, node, section, 30, 7200, e.timeout_s);
            } else if (key == "memory") {
                s = toml_.read_integer(key, node, section, 256, 65536, e.memory_mb);
            } else if (key == "metadata") {
                s = metadata_of(node, e.metadata);
            } else if (key == "expect") {
                s = expect_of(node, e.expect);
            } else if (key == "expect_checks") {
                s = expect_checks_of(node, e.expect_checks);
            } else {
                s = toml_.unknown(key, section);
            }
            if (!s) {
                return s.failure();
            }
        }
        if (e.name.empty() || e.image.empty()) {
            return toml_.fail(table.source(), "an [[image]] needs a name and a path");
        }
        if (!e.config_drive.empty() && (!e.user_data.empty() || !e.metadata.empty())) {
            return toml_.fail(table.source(), "image '" + e.name +
                                                  "': a config_drive carries its own metadata "
                                                  "and user-data (give neither)");
        }
        return e;
    }

  private:
    Status path_of(const toml::key& key, const toml::node& node, const std::string& section,
                   std::string& out) const {
        auto text = toml_.string_of(key, node, section);
        if (!text) {
            return text.failure();
        }
        if (text->empty()) {
            return toml_.fail(node.source(),
                              section + "." + std::string(key.str()) + " must not be empty");
        }
        out = resolved(*text, directory_);
        return Done{};
    }

    Status metadata_of(const toml::node& node, std::map<std::string, std::string>& out) const {
        const toml::table* table = node.as_table();
        if (table == nullptr) {
            return toml_.fail(node.source(),
                              "image.metadata must be a table of strings ({ key = \"value\" })");
        }
        for (const auto& [key, value] : *table) {
            auto text = toml_.string_of(key, value, "image.metadata");
            if (!text) {
                return text.failure();
            }
            out[std::string(key.str())] = *text;
        }
        return Done{};
    }

    Status expect_of(const toml::node& node, ImageOutcome& out) const {
        const auto word = node.value<std::string>();
        const auto outcome = word ? outcome_from_word(*word) : std::nullopt;
        if (!node.is_string() || !outcome || *outcome == ImageOutcome::error) {
            return toml_.fail(node.source(),
                              "image.expect must be one of pass, warn, fail, opted-out");
        }
        out = *outcome;
        return Done{};
    }

    Status expect_checks_of(const toml::node& node, std::map<std::string, Verdict>& out) const {
        const toml::table* table = node.as_table();
        if (table == nullptr) {
            return toml_.fail(node.source(),
                              "image.expect_checks must be a table (check id = "
                              "\"pass|warn|fail|skip|abort\")");
        }
        for (const auto& [key, value] : *table) {
            const auto word = value.value<std::string>();
            const auto verdict = word ? verdict_from_word(*word) : std::nullopt;
            if (!value.is_string() || !verdict) {
                return toml_.fail(value.source(), "image.expect_checks." + std::string(key.str()) +
                                                      " must be one of pass, warn, fail, skip, "
                                                      "abort");
            }
            out[std::string(key.str())] = *verdict;
        }
        return Done{};
    }

    config::TomlReader toml_;
    std::string directory_;
};
}  // namespace

const char* outcome_word(ImageOutcome outcome) {
    for (const auto& o : kOutcomes) {
        if (o.outcome == outcome) {
            return o.word;
        }
    }
    return "error";
}

std::optional<ImageOutcome> outcome_from_word(std::string_view word) {
    for (const auto& o : kOutcomes) {
        if (word == o.word) {
            return o.outcome;
        }
    }
    return std::nullopt;
}

Expected<std::vector<CatalogueEntry>> parse_catalogue(std::string_view text,
                                                      const std::string& origin,
                                                      const std::string& directory) {
    auto parsed = config::parse_toml(text, origin);
    if (!parsed) {
        return parsed.failure();
    }
    const toml::table& root = *parsed;
    const CatalogueReader reader(origin, directory);
    const config::TomlReader toml(origin);
    CatalogueEntry defaults;
    const toml::array* images = nullptr;
    for (const auto& [key, node] : root) {
        if (key == "image") {
            images = node.as_array();
            if (images == nullptr) {
                return toml.fail(node.source(), "image must be an array of tables ([[image]])");
            }
        } else if (Status s = reader.defaults(key, node, defaults); !s) {
            return s.failure();
        }
    }
    if (images == nullptr || images->empty()) {
        return Error{origin + ": no [[image]] in the catalogue"};
    }
    std::vector<CatalogueEntry> out;
    std::set<std::string> names;
    for (const toml::node& node : *images) {
        const toml::table* table = node.as_table();
        if (table == nullptr) {
            return toml.fail(node.source(), "image must be an array of tables ([[image]])");
        }
        auto entry = reader.entry(*table, defaults);
        if (!entry) {
            return entry.failure();
        }
        if (!names.insert(entry->name).second) {
            return toml.fail(table->source(), "image.name '" + entry->name + "' is used twice");
        }
        out.push_back(std::move(entry).value());
    }
    return out;
}

ImageOutcome image_outcome(const std::vector<CheckResult>& checks, bool opted_out) {
    bool warned = false;
    for (const auto& c : checks) {
        if (c.verdict == Verdict::fail || c.verdict == Verdict::abort) {
            return ImageOutcome::fail;
        }
        warned = warned || c.verdict == Verdict::warn;
    }
    return opted_out ? ImageOutcome::opted_out : warned ? ImageOutcome::warn : ImageOutcome::pass;
}

std::string expectation_mismatch(const CatalogueEntry& entry, ImageOutcome outcome,
                                 const std::vector<CheckResult>& checks) {
    std::vector<std::string> differences;
    // Expecting a pass is expecting nothing to fail: warnings (advice) are allowed and shown.
    const bool met = outcome == entry.expect ||
                     (entry.expect == ImageOutcome::pass && outcome == ImageOutcome::warn);
    if (!met) {
        differences.push_back(std::string("expected ") + outcome_word(entry.expect) + ", got " +
                              outcome_word(outcome));
    }
    for (const auto& [id, verdict] : entry.expect_checks) {
        const auto it = std::find_if(checks.begin(), checks.end(),
                                     [&id = id](const CheckResult& c) { return c.id == id; });
        if (it == checks.end()) {
            differences.push_back(id + ": expected " + verdict_word(verdict) + ", not run");
        } else if (it->verdict != verdict) {
            differences.push_back(id + ": expected " + verdict_word(verdict) + ", got " +
                                  verdict_word(it->verdict));
        }
    }
    std::string out;
    for (const auto& d : differences) {
        out += (out.empty() ? "" : "; ") + d;
    }
    return out;
}

}  // namespace cloudtime::check
