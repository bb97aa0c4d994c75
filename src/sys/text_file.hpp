// Reading a small text file whole (the leap-seconds list), writing one whole.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/expected.hpp"

namespace cloudtime::sys {

// The file's contents; the error is the system's reason ("No such file or directory").
Expected<std::string> read_text_file(const std::string& path);

// Writes `contents` to `path` through a temporary file renamed over it (a reader never sees
// half a file), creating missing parent directories.
Status write_text_file(const std::string& path, std::string_view contents);

// Writes every file of `files` (path relative to `root` -> contents) as write_text_file does.
Status write_file_tree(const std::string& root, const std::map<std::string, std::string>& files);

// The files a shell pattern names ("/var/lib/dhcp/*.leases"), sorted; none is no error.
std::vector<std::string> glob_files(const std::string& pattern);

}  // namespace cloudtime::sys
