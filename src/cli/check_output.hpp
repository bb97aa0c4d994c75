// How both checkers print their results: a human table, one JSON object, or the SCS
// compliance harness's `scs-0129-<check>: PASS|FAIL|ABORT` lines.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "check/check_result.hpp"

namespace cloudtime::cli {

enum class CheckOutput { human, json, scs };

struct CheckSummary {
    std::string ok;       // "host ready"
    std::string failed;   // "host NOT ready: a check failed"
    std::string unknown;  // "host readiness unknown: a check could not be run"
};

// Prints the results and returns their exit code. `details` (an object) is merged into the
// JSON output beside "checks" and "exit_code"; the human output prints its "table" lines.
int print_check_results(const std::vector<check::CheckResult>& results, CheckOutput mode,
                        const nlohmann::json& details, const CheckSummary& summary);

}  // namespace cloudtime::cli
