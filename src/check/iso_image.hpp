// SPDX-License-Identifier: Apache-2.0
// ISO 9660 images of a directory (config drives, validate-image's tools drive), made with
// xorriso as Nova makes config drives with genisoimage: Rock Ridge and Joliet, a volume label.
#pragma once

#include <string>
#include <string_view>

#include "util/expected.hpp"

namespace cloudtime::sys {

// Writes `directory`'s tree to `iso` with volume label `label` ("config-2" is what cloud-init
// looks for). Errors name xorriso's own words, or that it is not installed.
Status make_iso_image(const std::string& directory, const std::string& iso, std::string_view label);

}  // namespace cloudtime::sys
