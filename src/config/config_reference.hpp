// SPDX-License-Identifier: Apache-2.0
// What is made of the key table (config_keys.hpp) for people: the embedded default config
// (`--print-default-config`, the packaged /etc/cloudtime/cloudtimed.toml), the operator guide's
// key tables and the cloudtimed.toml(5) page. The repository holds the made files; a test
// fails when they differ from what this makes (`cloudtime-config-docs --write` renews them).
#pragma once

#include <string>
#include <string_view>

#include "config/config_keys.hpp"

namespace cloudtime::config {

// The default config: every section and key with its default and one-line summary.
std::string render_default_config();
// One section's table for the operator guide (markdown): key, type, default, reload, meaning.
std::string render_key_table(const ConfigSection& section);
// cloudtimed.toml(5), as markdown for go-md2man.
std::string render_man_page();
// What the reference says a key's value is: "integer, 0 to 1024", "one of `pass`, `smear`".
std::string type_text(const ConfigKey& key);

}  // namespace cloudtime::config
