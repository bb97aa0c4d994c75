// SPDX-License-Identifier: Apache-2.0
#include "check/check_result.hpp"

#include <array>
#include <cerrno>
#include <cmath>
#include <sstream>

namespace cloudtime::check {

namespace {
// By the enum's value: how people read a verdict, and its word in JSON reports.
struct VerdictNames {
    const char* name;
    const char* word;
};
constexpr std::array<VerdictNames, 5> kVerdictNames{
    {{"PASS", "pass"}, {"WARN", "warn"}, {"FAIL", "fail"}, {"SKIP", "skip"}, {"ABORT", "abort"}}};

const VerdictNames& names_of(Verdict v) {
    const auto i = static_cast<std::size_t>(v);
    return kVerdictNames.at(i < kVerdictNames.size() ? i : kVerdictNames.size() - 1);
}
}  // namespace

const char* verdict_name(Verdict v) {
    return names_of(v).name;
}

const char* verdict_word(Verdict v) {
    return names_of(v).word;
}

std::optional<Verdict> verdict_from_word(std::string_view word) {
    for (std::size_t i = 0; i < kVerdictNames.size(); ++i) {
        if (word == kVerdictNames.at(i).word) {
            return static_cast<Verdict>(i);
        }
    }
    return std::nullopt;
}

int exit_code(const std::vector<CheckResult>& results) {
    bool failed = false;
    bool aborted = false;
    for (const auto& r : results) {
        failed = failed || r.verdict == Verdict::fail;
        aborted = aborted || r.verdict == Verdict::abort;
    }
    return failed ? 1 : aborted ? 2 : 0;
}

bool is_permission_denied(const Error& error) {
    return error.code == EACCES || error.code == EPERM;
}

std::string seconds_text(double s) {
    std::ostringstream out;
    out.precision(3);
    if (std::fabs(s) < 1e-3) {
        out << std::fixed << s * 1e6 << " us";
    } else if (std::fabs(s) < 1.0) {
        out << std::fixed << s * 1e3 << " ms";
    } else {
        out << std::fixed << s << " s";
    }
    return out.str();
}

}  // namespace cloudtime::check
