// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: reading a checker's report (validate-image reads what a guest printed on
// its serial console, which the guest controls). Every refusal says why; a report that is read
// is written back to JSON that reads back the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "check/report.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace c = cloudtime::check;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded()) {
        return 0;
    }
    const auto report = c::report_from_json(json);
    if (!report) {
        if (report.error().empty()) {
            std::abort();
        }
        return 0;
    }
    const auto written = c::to_json(*report);
    const auto again = c::report_from_json(written);
    if (!again || c::to_json(*again) != written || again->exit_code() != report->exit_code()) {
        std::abort();
    }
    return 0;
}
