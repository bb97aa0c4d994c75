// SPDX-License-Identifier: Apache-2.0
// What a checker says about one thing: a verdict and the reason, the pieces both checkers
// (`host-check` on the hypervisor, `check` inside a VM) share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/expected.hpp"

namespace cloudtime::check {

enum class Verdict : std::uint8_t {
    pass,
    warn,  // works, but an operator should look (an expired leap list, a large offset)
    fail,
    skip,   // does not apply here (no chrony, no cloudtimed configured)
    abort,  // could not be checked (no permission, unreadable)
};
const char* verdict_name(Verdict v);  // "PASS", "WARN", ...: for people
const char* verdict_word(Verdict v);  // "pass", "warn", ...: in JSON reports
std::optional<Verdict> verdict_from_word(std::string_view word);

struct CheckResult {
    std::string id;  // scs-0129-<id>
    std::string title;
    Verdict verdict = Verdict::abort;
    std::string reason;
};

// 0 when nothing failed or aborted, 1 when a check failed, 2 when one could not be checked.
int exit_code(const std::vector<CheckResult>& results);

// Whether the kernel refused the caller permission (EACCES, EPERM): then a check could not be
// made, which is not a failure of what it checks.
bool is_permission_denied(const Error& error);

// "12.345 us", "1.234 ms", "2.000 s".
std::string seconds_text(double s);

}  // namespace cloudtime::check
