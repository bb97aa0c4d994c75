// SPDX-License-Identifier: Apache-2.0
// The result of validating a catalogue of images (`cloudtime validate-image` with several
// images or --catalogue): one row per image, one column per check, each image's outcome
// against what its entry expects; written as a table for people, one JSON object, or the SCS
// harness's lines. Pure: the runs are values, the outputs strings.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "check/check_result.hpp"
#include "check/image_catalogue.hpp"
#include "check/image_validation.hpp"

namespace cloudtime::check {

struct ImageRun {
    CatalogueEntry entry;
    std::optional<ImageValidation> validation;  // none: it could not be validated
    std::string error;                          // why not
    std::vector<CheckResult> checks;            // the validator's verdicts (evaluate_image)
    ImageOutcome outcome = ImageOutcome::error;
    std::string mismatch;  // "" when the outcome is the one expected
};

// The guest's own report's facts, or null when the check never reported.
const nlohmann::json* guest_facts(const ImageRun& run);
// The run's verdict of check `id`, or null when it was not run.
const CheckResult* find_check(const ImageRun& run, const std::string& id);

// Judges one validation against its entry.
ImageRun judge_image(CatalogueEntry entry, Expected<ImageValidation> validation);

// 0: every image came out as expected; 1: one did not; 2: none differed but one could not be
// validated (an image that could not be validated is never as expected).
int catalogue_exit_code(const std::vector<ImageRun>& runs);

// The check ids of all runs, in the order first seen: the matrix's columns.
std::vector<std::string> check_columns(const std::vector<ImageRun>& runs);

// What the guest's report says of one image, for the table and the page: the channels that
// delivered servers ("config-drive", "dhcp", ...), the NTP client found and what it follows.
struct GuestSummary {
    std::vector<std::string> channels;
    std::string client = "none";
    std::vector<std::string> client_servers;  // what chrony/timesyncd uses, as reported
    std::string opted_out;                    // where the opt-out was read; "" if none
};
GuestSummary guest_summary(const ImageRun& run);

std::vector<std::string> matrix_lines(const std::vector<ImageRun>& runs);
nlohmann::json catalogue_json(const std::vector<ImageRun>& runs, const std::string& checker);
// "<image>: scs-0129-<check>: PASS|FAIL|ABORT" (a warning is a pass; skips left out).
std::vector<std::string> catalogue_scs_lines(const std::vector<ImageRun>& runs);

}  // namespace cloudtime::check
