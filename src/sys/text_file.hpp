// Reading a small text file whole (the leap-seconds list).
#pragma once

#include <string>

#include "util/expected.hpp"

namespace cloudtime::sys {

// The file's contents; the error is the system's reason ("No such file or directory").
Expected<std::string> read_text_file(const std::string& path);

}  // namespace cloudtime::sys
