// SPDX-License-Identifier: Apache-2.0
#include "check/report.hpp"

#include <algorithm>
#include <array>

namespace cloudtime::check {

namespace {
constexpr std::array<std::string_view, 3> kReserved{"checker", "checks", "exit_code"};
}  // namespace

nlohmann::json to_json(const Report& report) {
    nlohmann::json out = report.facts.is_object() ? report.facts : nlohmann::json::object();
    out["checker"] = report.checker;
    out["checks"] = nlohmann::json::array();
    for (const auto& r : report.checks) {
        out["checks"].push_back({{"id", r.id},
                                 {"title", r.title},
                                 {"verdict", verdict_word(r.verdict)},
                                 {"reason", r.reason}});
    }
    out["exit_code"] = report.exit_code();
    return out;
}

Expected<Report> report_from_json(const nlohmann::json& json) {
    if (!json.is_object()) {
        return Error{"a report is a JSON object"};
    }
    Report report;
    if (!json.contains("checker") || !json["checker"].is_string()) {
        return Error{"the report names no checker"};
    }
    report.checker = json["checker"].get<std::string>();
    if (!json.contains("checks") || !json["checks"].is_array()) {
        return Error{"the report has no list of checks"};
    }
    for (const auto& c : json["checks"]) {
        const auto text = [&](const char* key) -> std::optional<std::string> {
            if (!c.is_object() || !c.contains(key) || !c[key].is_string()) {
                return std::nullopt;
            }
            return c[key].get<std::string>();
        };
        const auto id = text("id");
        const auto title = text("title");
        const auto verdict = text("verdict");
        const auto reason = text("reason");
        if (!id || !title || !verdict || !reason) {
            return Error{"a check lacks its id, title, verdict or reason: " + c.dump()};
        }
        const auto v = verdict_from_word(*verdict);
        if (!v) {
            return Error{"check " + *id + ": unknown verdict '" + *verdict + "'"};
        }
        report.checks.push_back({*id, *title, *v, *reason});
    }
    if (!json.contains("exit_code") || !json["exit_code"].is_number_integer() ||
        json["exit_code"].get<int>() != report.exit_code()) {
        return Error{"the report's exit_code does not follow from its checks"};
    }
    for (const auto& [key, value] : json.items()) {
        if (std::find(kReserved.begin(), kReserved.end(), key) == kReserved.end()) {
            report.facts[key] = value;
        }
    }
    return report;
}

}  // namespace cloudtime::check
