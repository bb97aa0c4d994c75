// SPDX-License-Identifier: Apache-2.0
#include "sys/paths.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <utility>
#include <vector>

#include "sys/fd.hpp"

namespace cloudtime::sys {

Expected<FileKind> file_kind(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return os_error(path);
    }
    if (S_ISREG(st.st_mode)) {
        return FileKind::regular;
    }
    if (S_ISDIR(st.st_mode)) {
        return FileKind::directory;
    }
    if (S_ISSOCK(st.st_mode)) {
        return FileKind::socket;
    }
    if (S_ISCHR(st.st_mode)) {
        return FileKind::character_device;
    }
    return FileKind::other;
}

bool path_exists(const std::string& path) {
    return ::access(path.c_str(), F_OK) == 0;
}

bool running_as_root() {
    return ::geteuid() == 0;
}

unsigned user_id() {
    return ::geteuid();
}

int process_id() {
    return static_cast<int>(::getpid());
}

int thread_id() {
    return static_cast<int>(::gettid());
}

Expected<TemporaryDirectory> TemporaryDirectory::create(const std::string& prefix) {
    std::vector<char> pattern(prefix.begin(), prefix.end());
    const std::string suffix = "XXXXXX";
    pattern.insert(pattern.end(), suffix.begin(), suffix.end());
    pattern.push_back('\0');
    if (::mkdtemp(pattern.data()) == nullptr) {
        return os_error("mkdtemp " + prefix + suffix);
    }
    return TemporaryDirectory(std::string(pattern.data()));
}

TemporaryDirectory::TemporaryDirectory(TemporaryDirectory&& other) noexcept
    : path_(std::exchange(other.path_, {})) {}

TemporaryDirectory::~TemporaryDirectory() {
    if (!path_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
}

Expected<std::vector<std::string>> list_directory(const std::string& directory) {
    DIR* dir = ::opendir(directory.c_str());
    if (dir == nullptr) {
        return os_error("opendir " + directory);
    }
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string name = entry->d_name;
        if (name != "." && name != "..") {
            names.push_back(name);
        }
    }
    ::closedir(dir);
    return names;
}

}  // namespace cloudtime::sys
