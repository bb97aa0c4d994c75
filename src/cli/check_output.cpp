// SPDX-License-Identifier: Apache-2.0
#include "cli/check_output.hpp"

#include <fmt/format.h>

#include <iostream>

namespace cloudtime::cli {

std::string checker_name() {
    return std::string(CLOUDTIME_PROGRAM) + " " + CLOUDTIME_VERSION;
}

int print_report(const check::Report& report, CheckOutput mode,
                 const std::vector<std::string>& table, const CheckSummary& summary) {
    const int code = report.exit_code();
    switch (mode) {
        case CheckOutput::json:
            std::cout << check::to_json(report).dump(2) << "\n";
            break;
        case CheckOutput::scs:
            // A check that does not apply is left out, and a warning is a pass that the human
            // and JSON outputs explain.
            for (const auto& r : report.checks) {
                if (r.verdict == check::Verdict::skip) {
                    continue;
                }
                const char* verdict =
                    r.verdict == check::Verdict::warn ? "PASS" : check::verdict_name(r.verdict);
                std::cout << "scs-0129-" << r.id << ": " << verdict << "\n";
            }
            break;
        case CheckOutput::human:
            for (const auto& line : table) {
                std::cout << line << "\n";
            }
            if (!table.empty()) {
                std::cout << "\n";
            }
            // The id first, as --json and --scs name the check; then what it checks and why.
            for (const auto& r : report.checks) {
                std::cout << fmt::format("{:<6} {:<25} {}: {}\n", check::verdict_name(r.verdict),
                                         r.id, r.title, r.reason);
            }
            std::cout << (code == 0   ? summary.ok
                          : code == 1 ? summary.failed
                                      : summary.unknown)
                      << "\n";
            break;
    }
    return code;
}

}  // namespace cloudtime::cli
