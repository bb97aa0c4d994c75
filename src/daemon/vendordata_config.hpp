// The [vendordata] section: the endpoint's settings, the time policy and its rules.
#pragma once

#include <toml++/toml.h>

#include "daemon/config.hpp"
#include "daemon/toml_reader.hpp"

namespace cloudtime::daemon {

Status apply_vendordata(const TomlReader& reader, const toml::table& table,
                        Config::Vendordata& out);

}  // namespace cloudtime::daemon
