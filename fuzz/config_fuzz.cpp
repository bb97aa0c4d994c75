// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the config reader (TOML -> Config, checked). An operator's typo or a
// broken file must give an error naming the file (and line), never a crash or a value outside
// the bounds the reader documents.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto config = cloudtime::config::parse_config(text, "fuzz.toml");
    if (!config) {
        if (config.error().rfind("fuzz.toml", 0) != 0) {
            std::abort();  // every error names the file
        }
        return 0;
    }
    // What the reader accepts is within the bounds it documents.
    const auto& c = *config;
    if (c.threads > 1024 || c.batch_size < 1 || c.batch_size > 1024 ||
        c.vendordata.max_body < 1024 || c.vendordata.max_connections < 1 || c.holdover_s < 0 ||
        c.restart_grace_s < 0) {
        std::abort();
    }
    return 0;
}
