// The [nts] section: Network Time Security (RFC 8915) key establishment, its certificate and
// the cookie keys' store and rotation.
#pragma once

#include <toml++/toml.h>

#include "config/config.hpp"
#include "config/toml_reader.hpp"

namespace cloudtime::config {

Status apply_nts(const TomlReader& reader, const toml::table& table, Config::Nts& out);

}  // namespace cloudtime::config
