#include "check/check_result.hpp"

#include <cerrno>
#include <cmath>
#include <sstream>

namespace cloudtime::check {

const char* verdict_name(Verdict v) {
    switch (v) {
        case Verdict::pass:
            return "PASS";
        case Verdict::warn:
            return "WARN";
        case Verdict::fail:
            return "FAIL";
        case Verdict::skip:
            return "SKIP";
        case Verdict::abort:
            return "ABORT";
    }
    return "?";
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
