// SPDX-License-Identifier: Apache-2.0
#include "check/catalogue_report.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "check/guest_console.hpp"

namespace cloudtime::check {

namespace {
std::string cell_word(const CheckResult* c) {
    if (c == nullptr) {
        return "-";
    }
    return c->verdict == Verdict::skip    ? "skip"
           : c->verdict == Verdict::abort ? "ABRT"
                                          : verdict_name(c->verdict);
}
}  // namespace

const nlohmann::json* guest_facts(const ImageRun& run) {
    if (!run.validation || !run.validation->guest || !*run.validation->guest) {
        return nullptr;
    }
    return &(*run.validation->guest)->facts;
}

const CheckResult* find_check(const ImageRun& run, const std::string& id) {
    const auto it = std::find_if(run.checks.begin(), run.checks.end(),
                                 [&](const CheckResult& c) { return c.id == id; });
    return it == run.checks.end() ? nullptr : &*it;
}

ImageRun judge_image(CatalogueEntry entry, Expected<ImageValidation> validation) {
    ImageRun run;
    run.entry = std::move(entry);
    if (!validation) {
        run.error = validation.error();
        run.outcome = ImageOutcome::error;
        run.mismatch = "could not be validated: " + run.error;
        return run;
    }
    run.validation = std::move(validation).value();
    run.checks = evaluate_image(*run.validation, run.entry.timeout_s);
    const nlohmann::json* facts = guest_facts(run);
    const bool opted_out = facts != nullptr && facts->contains("opted_out");
    run.outcome = image_outcome(run.checks, opted_out);
    run.mismatch = expectation_mismatch(run.entry, run.outcome, run.checks);
    return run;
}

int catalogue_exit_code(const std::vector<ImageRun>& runs) {
    bool differed = false;
    bool unvalidated = false;
    for (const auto& r : runs) {
        differed = differed || (!r.mismatch.empty() && r.outcome != ImageOutcome::error);
        unvalidated = unvalidated || r.outcome == ImageOutcome::error;
    }
    return differed ? 1 : unvalidated ? 2 : 0;
}

std::vector<std::string> check_columns(const std::vector<ImageRun>& runs) {
    std::vector<std::string> ids;
    for (const auto& r : runs) {
        for (const auto& c : r.checks) {
            if (std::find(ids.begin(), ids.end(), c.id) == ids.end()) {
                ids.push_back(c.id);
            }
        }
    }
    return ids;
}

GuestSummary guest_summary(const ImageRun& run) {
    GuestSummary s;
    const nlohmann::json* facts = guest_facts(run);
    if (facts == nullptr) {
        return s;
    }
    for (const auto& c : facts->value("channels", nlohmann::json::array())) {
        const std::string kind = c.value("kind", "?");
        if (c.contains("servers") && !c["servers"].empty() &&
            std::find(s.channels.begin(), s.channels.end(), kind) == s.channels.end()) {
            s.channels.push_back(kind);
        }
    }
    const auto client = facts->value("client", nlohmann::json::object());
    s.client = client.value("kind", std::string("none"));
    if (s.client == "chrony") {
        for (const auto& source : client.value("sources", nlohmann::json::array())) {
            if (source.value("symbol", "") == "*") {
                s.client_servers.push_back(source.value("address", "?"));
            }
        }
    } else {
        for (const auto& server : client.value("servers", nlohmann::json::array())) {
            s.client_servers.push_back(server.get<std::string>());
        }
    }
    s.opted_out = facts->value("opted_out", std::string());
    return s;
}

std::vector<std::string> matrix_lines(const std::vector<ImageRun>& runs) {
    const auto columns = check_columns(runs);
    std::size_t name_width = 5;
    for (const auto& r : runs) {
        name_width = std::max(name_width, r.entry.name.size());
    }
    std::vector<std::string> out;
    std::string header =
        fmt::format("{:<{}}  {:<9} {:<9} {:>6} ", "image", name_width, "expect", "outcome", "boot");
    for (std::size_t i = 0; i < columns.size(); ++i) {
        header += fmt::format(" {:>4}", i + 1);
    }
    out.push_back(header + "  as expected");
    std::size_t as_expected = 0;
    for (const auto& r : runs) {
        std::string line = fmt::format(
            "{:<{}}  {:<9} {:<9} {:>6} ", r.entry.name, name_width, outcome_word(r.entry.expect),
            outcome_word(r.outcome),
            r.validation ? fmt::format("{:.0f} s", r.validation->boot_s) : std::string("-"));
        for (const auto& id : columns) {
            line += fmt::format(" {:>4}", cell_word(find_check(r, id)));
        }
        out.push_back(line + (r.mismatch.empty() ? "  yes" : "  NO"));
        as_expected += r.mismatch.empty() ? 1U : 0U;
    }
    std::string legend = "checks:";
    for (std::size_t i = 0; i < columns.size(); ++i) {
        legend += fmt::format(" {} {}{}", i + 1, columns[i], i + 1 < columns.size() ? "," : "");
    }
    out.push_back(legend);
    for (const auto& r : runs) {
        if (r.mismatch.empty()) {
            continue;
        }
        out.emplace_back();
        out.push_back(r.entry.name + " (" + r.entry.image + "): " + r.mismatch);
        for (const auto& c : r.checks) {
            if (c.verdict == Verdict::fail || c.verdict == Verdict::abort ||
                c.verdict == Verdict::warn) {
                out.push_back(
                    fmt::format("  {:<5} {}: {}", verdict_name(c.verdict), c.id, c.reason));
            }
        }
    }
    out.emplace_back();
    out.push_back(fmt::format("{} of {} images as expected", as_expected, runs.size()));
    return out;
}

nlohmann::json catalogue_json(const std::vector<ImageRun>& runs, const std::string& checker) {
    nlohmann::json images = nlohmann::json::array();
    for (const auto& r : runs) {
        nlohmann::json j = {{"name", r.entry.name},
                            {"image", r.entry.image},
                            {"expect", outcome_word(r.entry.expect)},
                            {"outcome", outcome_word(r.outcome)},
                            {"as_expected", r.mismatch.empty()},
                            {"mismatch", r.mismatch},
                            {"checks", nlohmann::json::array()}};
        for (const auto& c : r.checks) {
            j["checks"].push_back({{"id", c.id},
                                   {"title", c.title},
                                   {"verdict", verdict_word(c.verdict)},
                                   {"reason", c.reason}});
        }
        if (r.validation) {
            j["validation"] = validation_facts(*r.validation, r.entry.image);
        } else {
            j["error"] = r.error;
        }
        const auto summary = guest_summary(r);
        j["delivered_by"] = summary.channels;
        j["client"] = {{"kind", summary.client}, {"follows", summary.client_servers}};
        images.push_back(j);
    }
    return {{"checker", checker},
            {"images", images},
            {"check_columns", check_columns(runs)},
            {"exit_code", catalogue_exit_code(runs)}};
}

std::vector<std::string> catalogue_scs_lines(const std::vector<ImageRun>& runs) {
    std::vector<std::string> out;
    for (const auto& r : runs) {
        for (const auto& c : r.checks) {
            if (c.verdict == Verdict::skip) {
                continue;
            }
            out.push_back(r.entry.name + ": scs-0129-" + c.id + ": " +
                          (c.verdict == Verdict::warn ? "PASS" : verdict_name(c.verdict)));
        }
        if (r.outcome == ImageOutcome::error) {
            out.push_back(r.entry.name + ": scs-0129-image-boots: ABORT");
        }
    }
    return out;
}

}  // namespace cloudtime::check
