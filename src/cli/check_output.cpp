#include "cli/check_output.hpp"

#include <fmt/format.h>

#include <cctype>
#include <iostream>

namespace cloudtime::cli {

namespace {
std::string lower(std::string s) {
    for (char& c : s) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
}
}  // namespace

int print_check_results(const std::vector<check::CheckResult>& results, CheckOutput mode,
                        const nlohmann::json& details, const CheckSummary& summary) {
    const int code = check::exit_code(results);
    switch (mode) {
        case CheckOutput::json: {
            nlohmann::json out = details.is_object() ? details : nlohmann::json::object();
            out.erase("table");
            out["checks"] = nlohmann::json::array();
            for (const auto& r : results) {
                out["checks"].push_back({{"id", r.id},
                                         {"title", r.title},
                                         {"verdict", lower(check::verdict_name(r.verdict))},
                                         {"reason", r.reason}});
            }
            out["exit_code"] = code;
            out["checker"] = std::string(CLOUDTIME_PROGRAM) + " " + CLOUDTIME_VERSION;
            std::cout << out.dump(2) << "\n";
            break;
        }
        case CheckOutput::scs:
            // A check that does not apply is left out, and a warning is a pass that the human
            // and JSON outputs explain.
            for (const auto& r : results) {
                if (r.verdict == check::Verdict::skip) {
                    continue;
                }
                const char* verdict =
                    r.verdict == check::Verdict::warn ? "PASS" : check::verdict_name(r.verdict);
                std::cout << "scs-0129-" << r.id << ": " << verdict << "\n";
            }
            break;
        case CheckOutput::human:
            if (details.is_object() && details.contains("table")) {
                for (const auto& line : details["table"]) {
                    std::cout << line.get<std::string>() << "\n";
                }
                std::cout << "\n";
            }
            for (const auto& r : results) {
                std::cout << fmt::format("{:<6} {:<52} {}\n", check::verdict_name(r.verdict),
                                         r.title, r.reason);
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
