// SPDX-License-Identifier: Apache-2.0
// `validate-image --report FILE.html`: the catalogue's result as one self-contained HTML page
// (no external asset, script or font): the matrix with PASS/WARN/FAIL cells, and per image its
// boot, the channel that delivered time, the NTP client found and what it follows, the
// guest's offset and jitter over the check's samples as an inline SVG plot, what the
// vendordata's script did, and on failure the console's end. Pure.
//
// For tools reading it: the matrix is table#matrix, one tr[data-image] per image and one
// td[data-check] per check (class = the verdict word); each image has section#image-<name>.
#pragma once

#include <string>
#include <vector>

#include "check/catalogue_report.hpp"

namespace cloudtime::check {

std::string html_escape(std::string_view text);

// The plot of one server's samples: offsets in microseconds, the jitter band around their
// best; "" when there are no samples.
std::string offset_plot_svg(const nlohmann::json& server);

std::string catalogue_html(const std::vector<ImageRun>& runs, const std::string& checker,
                           const std::string& generated_at);

}  // namespace cloudtime::check
