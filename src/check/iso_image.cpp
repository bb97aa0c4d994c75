// SPDX-License-Identifier: Apache-2.0
#include "check/iso_image.hpp"

#include "sys/process.hpp"

namespace cloudtime::sys {

Status make_iso_image(const std::string& directory, const std::string& iso,
                      std::string_view label) {
    auto made = run_program({"xorriso", "-as", "mkisofs", "-quiet", "-o", iso, "-V",
                             std::string(label), "-J", "-r", directory});
    if (!made) {
        return Error{"cannot run xorriso (Debian package xorriso): " + made.error(),
                     made.error_code()};
    }
    if (made->exit_code != 0) {
        return Error{"xorriso failed (exit " + std::to_string(made->exit_code) +
                     "): " + made->output};
    }
    return Done{};
}

}  // namespace cloudtime::sys
