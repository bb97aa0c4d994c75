// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the leap-seconds.list parser on arbitrary text. Whatever it accepts must
// be a schedule the rest of the code may trust: increasing entries, one-second steps.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "proto/leap_seconds.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace p = cloudtime::proto;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto schedule = p::parse_leap_seconds(text);
    if (!schedule) {
        return 0;
    }
    for (std::size_t i = 1; i < schedule->entries.size(); ++i) {
        const auto& a = schedule->entries[i - 1];
        const auto& b = schedule->entries[i];
        if (b.from.ns <= a.from.ns ||
            (b.tai_offset - a.tai_offset != 1 && a.tai_offset - b.tai_offset != 1)) {
            std::abort();
        }
    }
    (void)p::next_leap(*schedule, p::UnixTime{0});
    return 0;
}
