// SPDX-License-Identifier: Apache-2.0
// What the image validator gives the guest and reads back from it, pure: the user-data, the
// script on the tools drive, the stages and the report on the serial console, and the
// verdicts drawn from them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "check/check_result.hpp"
#include "check/image_validation.hpp"
#include "util/expected.hpp"

namespace cloudtime::check {

// The script the tools drive holds, which runs `checker` inside and prints its report between
// markers on the serial console; and whether the console shows that it finished.
std::string run_check_script(std::string_view checker);
bool check_finished(const std::string& console);

// How far the guest has come, from what its console printed so far ("" before the
// first line: firmware and boot loader).
std::string guest_stage(std::string_view console);

inline constexpr const char* kValidatorMac = "52:54:00:c1:0c:7e";

// The user-data the validator gives the guest: a MIME multipart of the tenant's own
// user-data (if any) and the shell part that runs the check from the tools drive and powers
// the guest off.
std::string validator_user_data(const std::string& tenant_user_data);

// The MIME type cloud-init gives user-data by its first line ("#cloud-config" ->
// "text/cloud-config"); an error for what cannot be a part of the validator's multipart.
Expected<std::string> user_data_type(std::string_view user_data);

// What the console printed between the markers.
void parse_console(const std::string& console, ImageValidation& out);
// The lines the vendordata's script logged ("cloudtime: ..."), in order.
std::vector<std::string> vendordata_log(const std::string& console);

// The validator's facts, as the JSON report carries them: the boot, and the guest's report.
nlohmann::json validation_facts(const ImageValidation& v, const std::string& image);

// The validator's verdicts: the image booted to cloud-init's final stage in time, and the
// guest's own checks (scs-0129-<id>), each as the guest judged it.
std::vector<CheckResult> evaluate_image(const ImageValidation& v, int timeout_s);

}  // namespace cloudtime::check
