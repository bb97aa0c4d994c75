// SPDX-License-Identifier: Apache-2.0
// What the file system says about a path, who this process runs as, and private temporary
// directories removed with their contents.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/expected.hpp"

namespace cloudtime::sys {

enum class FileKind : std::uint8_t { regular, directory, socket, character_device, other };

// The kind of file at `path` (following symbolic links); the error keeps errno, so that a
// caller tells "not there" (ENOENT) from "not allowed to look" (EACCES).
Expected<FileKind> file_kind(const std::string& path);
bool path_exists(const std::string& path);

// The names in `directory` (no "." and ".."); an error when it cannot be read.
Expected<std::vector<std::string>> list_directory(const std::string& directory);

bool running_as_root();  // effective user id 0
unsigned user_id();      // effective user id
int process_id();
int thread_id();  // gettid(2): unique among the threads alive at once

// A directory made with mkdtemp(3) (0700, unique), removed with everything in it when the
// owner goes, unless released.
class TemporaryDirectory {
  public:
    // `prefix` such as "/tmp/cloudtime-check-": six random characters are appended.
    static Expected<TemporaryDirectory> create(const std::string& prefix);
    TemporaryDirectory(TemporaryDirectory&& other) noexcept;
    TemporaryDirectory& operator=(TemporaryDirectory&&) = delete;
    TemporaryDirectory(const TemporaryDirectory&) = delete;
    TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
    ~TemporaryDirectory();

    const std::string& path() const { return path_; }

  private:
    explicit TemporaryDirectory(std::string path) : path_(std::move(path)) {}
    std::string path_;  // empty once moved from
};

}  // namespace cloudtime::sys
