// SPDX-License-Identifier: Apache-2.0
// The cloudtime_vendordata_* metric families, from the vendordata process's status document
// (vendordata/vendordata_counts): whatever shape the process gave its counts, never an
// exception.
#pragma once

#include <nlohmann/json.hpp>

#include "metrics/exposition.hpp"

namespace cloudtime::daemon {

void vendordata_metrics(metrics::Exposition& e, const nlohmann::json& status);

}  // namespace cloudtime::daemon
