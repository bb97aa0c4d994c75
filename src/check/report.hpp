// SPDX-License-Identifier: Apache-2.0
// What every checker reports (`check`, `host-check`, `validate-image`): one type, written to
// JSON and read back from it, so that a report crosses a process or a serial console as a
// value (validate-image reads the guest's), never as strings matched by hand. The JSON form is
// the contract documented in cloudtime(1):
//   {"checker": "cloudtime-vm 0.1.0",
//    "checks": [{"id", "title", "verdict": "pass|warn|fail|skip|abort", "reason"}],
//    "exit_code": 0|1|2,
//    ...the checker's facts, each a top-level key}
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "check/check_result.hpp"
#include "util/expected.hpp"

namespace cloudtime::check {

struct Report {
    std::string checker;  // program and version
    std::vector<CheckResult> checks;
    nlohmann::json facts = nlohmann::json::object();  // what the checks judged, by key

    int exit_code() const { return check::exit_code(checks); }
};

nlohmann::json to_json(const Report& report);
// Strict: a check without an id, title or reason, or with an unknown verdict, is an error that
// names it; so is an exit code that does not follow from the checks.
Expected<Report> report_from_json(const nlohmann::json& json);

}  // namespace cloudtime::check
