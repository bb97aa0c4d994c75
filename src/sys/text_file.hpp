// SPDX-License-Identifier: Apache-2.0
// Reading a small text file whole (the leap-seconds list), writing one whole.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sys/fd.hpp"
#include "util/expected.hpp"

namespace cloudtime::sys {

inline constexpr std::size_t kTextFileLimit = 16U << 20U;

// The contents of the regular file at `path`, at most `max_bytes` of them (more is an error,
// nothing is read past it). Opened without blocking and checked first, so that a FIFO or a
// device at the path is an error ("not a regular file (a FIFO)") instead of a hang or an
// endless read. With `pipe_allowed`, an already open pipe (/dev/stdin) is read too, for up to
// 10 s. The error keeps the system's reason and errno ("No such file or directory").
Expected<std::string> read_text_file(const std::string& path,
                                     std::size_t max_bytes = kTextFileLimit,
                                     bool pipe_allowed = false);

// An anonymous in-memory file holding `contents`, sealed against change (memfd), to hand a
// child process data that must not block or be read half.
Expected<UniqueFd> memory_file(const std::string& name, std::string_view contents);
// The whole contents of an open file from its start, at most `max_bytes`.
Expected<std::string> read_whole(int fd, std::size_t max_bytes);

// Writes `contents` to `path` through a temporary file renamed over it (a reader never sees
// half a file), creating missing parent directories.
Status write_text_file(const std::string& path, std::string_view contents);

// Writes a secret: as write_text_file, but the file is created 0600 (never readable by
// others, not even for a moment), written to disk (fsync) before it replaces `path`, and a
// missing parent directory is created 0700.
Status write_private_file(const std::string& path, std::string_view contents);
// Whether the file at `path` can be read or written by anyone but its owner (and root).
Expected<bool> readable_by_others(const std::string& path);

// Writes every file of `files` (path relative to `root` -> contents) as write_text_file does.
Status write_file_tree(const std::string& root, const std::map<std::string, std::string>& files);

// The files a shell pattern names ("/var/lib/dhcp/*.leases"), sorted; none is no error.
std::vector<std::string> glob_files(const std::string& pattern);

}  // namespace cloudtime::sys
