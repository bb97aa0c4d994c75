// SPDX-License-Identifier: Apache-2.0
#include "config/config_reference.hpp"

#include <fmt/format.h>

#include <cmath>
#include <string>

namespace cloudtime::config {

namespace {

constexpr std::size_t kCommentColumn = 32;

std::string number_text(double v) {
    if (std::floor(v) == v && std::fabs(v) < 1e15) {
        return std::to_string(static_cast<std::int64_t>(v));
    }
    std::string text = fmt::format("{:.6f}", v);
    while (text.back() == '0') {
        text.pop_back();
    }
    return text;
}

std::string words_text(const ConfigKey& key) {
    std::string out;
    for (const std::string_view word : choice_words(key)) {
        out += (out.empty() ? "" : ", ") + std::string("`") + std::string(word) + "`";
    }
    return out;
}

// A comment beside `line`, from the comment column on (or two spaces after a long line).
std::string with_comment(const std::string& line, std::string_view comment) {
    if (comment.empty()) {
        return line + "\n";
    }
    const std::size_t pad = line.size() < kCommentColumn ? kCommentColumn - line.size() : 2;
    return line + std::string(pad, ' ') + "# " + std::string(comment) + "\n";
}

const char* reload_text(KeyReload reload) {
    return reload == KeyReload::applied ? "applied" : "restart";
}

// A markdown table cell: its pipes escaped.
std::string cell(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c == '|') {
            out += '\\';
        }
        out += c;
    }
    return out;
}

}  // namespace

std::string type_text(const ConfigKey& key) {
    switch (key.type) {
        case KeyType::boolean:
            return "boolean";
        case KeyType::integer:
            return "integer, " + number_text(key.lo) + " to " + number_text(key.hi);
        case KeyType::seconds:
            return "seconds, " + number_text(key.lo) + " to " + number_text(key.hi);
        case KeyType::choice:
            return "one of " + words_text(key);
        case KeyType::other:
            break;
    }
    return std::string(key.kind);
}

std::string render_default_config() {
    std::string out =
        "# cloudtimed's embedded default configuration: NTP on loopback, an unprivileged port.\n"
        "# Every key has a default; a config file needs only the keys it changes.\n"
        "# The full reference: cloudtimed.toml(5).\n";
    for (const auto& section : config_sections()) {
        out += "\n" + with_comment("[" + std::string(section.name) + "]", section.summary);
        for (const auto& key : section.keys) {
            out +=
                with_comment(std::string(key.name) + " = " + std::string(key.value), key.summary);
        }
    }
    return out;
}

std::string render_key_table(const ConfigSection& section) {
    std::string out =
        "| key | type | default | reload | meaning |\n| --- | --- | --- | --- | --- |\n";
    for (const auto& key : section.keys) {
        out += fmt::format("| `{}` | {} | `{}` | {} | {} |\n", key.name, cell(type_text(key)),
                           cell(key.value), reload_text(key.reload), cell(key.doc));
    }
    return out;
}

std::string render_man_page() {
    std::string out =
        "# cloudtimed.toml(5)\n"
        "\n"
        "## NAME\n"
        "cloudtimed.toml - the configuration of cloudtimed\n"
        "\n"
        "## SYNOPSIS\n"
        "`/etc/cloudtime/cloudtimed.toml`\n"
        "\n"
        "## DESCRIPTION\n"
        "A TOML file read by cloudtimed(8) at start (`--config FILE`) and again on every reload\n"
        "(SIGHUP, `systemctl reload cloudtimed`). Every key has a default, and a file names only\n"
        "the keys it changes, in their `[section]`; `cloudtimed --print-default-config` prints\n"
        "them all. An unknown section or key, a value of the wrong type or out of its range, is\n"
        "an error that names the file and the line: cloudtimed does not start (exit status 78),\n"
        "or the reload is rejected whole and the running configuration stays.\n"
        "`cloudtimed --check-config` checks a file without starting.\n"
        "\n"
        "Each key below says its type, its default, and whether a reload applies it\n"
        "(*applied*) or only a restart does (*restart*: `cloudtime status` lists such keys that\n"
        "changed, under `reload.restart_needed`).\n";
    for (const auto& section : config_sections()) {
        out += "\n## [" + std::string(section.name) + "]\n";
        for (const auto& key : section.keys) {
            out += fmt::format("- `{}` ({}; default `{}`; {}): {}\n", key.name, type_text(key),
                               key.value, reload_text(key.reload), key.doc);
        }
    }
    out +=
        "\n"
        "## FILES\n"
        "`/etc/cloudtime/cloudtimed.toml`: the configuration the packaged service reads.\n"
        "\n"
        "## SEE ALSO\n"
        "cloudtimed(8), cloudtime(1)\n";
    return out;
}

std::string_view default_config_text() {
    static const std::string text = render_default_config();
    return text;
}

}  // namespace cloudtime::config
