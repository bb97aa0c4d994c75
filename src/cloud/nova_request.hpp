// SPDX-License-Identifier: Apache-2.0
// The request body Nova's DynamicJSON vendordata provider POSTs (nova/api/metadata/
// vendordata_dynamic.py): project-id, instance-id, image-id, user-data, hostname, metadata,
// boot-roles.
#pragma once

#include <string_view>

#include "cloud/time_policy.hpp"
#include "util/expected.hpp"

namespace cloudtime::cloud {

// The instance the body describes. Errors name what is wrong ("metadata must be an object").
// Unknown keys are ignored (Nova may add some); every known one may be missing or null.
Expected<InstanceFacts> parse_nova_request(std::string_view body);

}  // namespace cloudtime::cloud
