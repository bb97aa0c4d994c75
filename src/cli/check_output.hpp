// SPDX-License-Identifier: Apache-2.0
// How the checkers print their report: a human table, the report as one JSON object, or the
// SCS compliance harness's `scs-0129-<check>: PASS|FAIL|ABORT` lines.
#pragma once

#include <string>
#include <vector>

#include "check/report.hpp"

namespace cloudtime::cli {

enum class CheckOutput { human, json, scs };

struct CheckSummary {
    std::string ok;       // "host ready"
    std::string failed;   // "host NOT ready: a check failed"
    std::string unknown;  // "host readiness unknown: a check could not be run"
};

// This program and version, as reports name their checker ("cloudtime-vm 0.1.0").
std::string checker_name();

// Prints the report and returns its exit code. `table` is for people only: the human output
// prints it above the verdicts; the JSON carries the facts instead.
int print_report(const check::Report& report, CheckOutput mode,
                 const std::vector<std::string>& table, const CheckSummary& summary);

}  // namespace cloudtime::cli
