// The [vendordata] section: the endpoint's settings, the time policy and its rules.
#pragma once

#include <toml++/toml.h>

#include "config/config.hpp"
#include "config/toml_reader.hpp"

namespace cloudtime::config {

Status apply_vendordata(const TomlReader& reader, const toml::table& table,
                        Config::Vendordata& out);

}  // namespace cloudtime::config
