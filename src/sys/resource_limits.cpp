// SPDX-License-Identifier: Apache-2.0
#include "sys/resource_limits.hpp"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <sstream>

#include "sys/fd.hpp"
#include "sys/paths.hpp"
#include "sys/text_file.hpp"

namespace cloudtime::sys {

Expected<OpenFilesLimit> open_files_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return os_error("getrlimit(RLIMIT_NOFILE)");
    }
    return OpenFilesLimit{limit.rlim_cur, limit.rlim_max};
}

Expected<OpenFilesLimit> raise_open_files_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return os_error("getrlimit(RLIMIT_NOFILE)");
    }
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
            return os_error("setrlimit(RLIMIT_NOFILE)");
        }
    }
    return OpenFilesLimit{limit.rlim_cur, limit.rlim_max};
}

Expected<std::uint64_t> limit_open_files(std::uint64_t count) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return os_error("getrlimit(RLIMIT_NOFILE)");
    }
    const rlim_t cap = std::min<rlim_t>(count, limit.rlim_max);
    limit = {cap, cap};
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return os_error("setrlimit(RLIMIT_NOFILE)");
    }
    return std::uint64_t{cap};
}

Status limit_data(std::uint64_t bytes) {
    const rlimit limit{bytes, bytes};
    if (::setrlimit(RLIMIT_DATA, &limit) != 0) {
        return os_error("setrlimit(RLIMIT_DATA)");
    }
    return Done{};
}

std::size_t open_file_count() {
    const auto entries = list_directory("/proc/self/fd");
    return entries ? entries->size() - 1 : 0;  // less the directory's own descriptor
}

std::uint64_t resident_memory_bytes() {
    const auto statm = read_text_file("/proc/self/statm");
    if (!statm) {
        return 0;
    }
    std::uint64_t size_pages = 0;
    std::uint64_t resident_pages = 0;
    std::istringstream fields(*statm);
    if (!(fields >> size_pages >> resident_pages)) {
        return 0;
    }
    const long page = ::sysconf(_SC_PAGESIZE);
    return resident_pages * static_cast<std::uint64_t>(page > 0 ? page : 4096);
}

void set_process_name(const std::string& name) {
    (void)::prctl(PR_SET_NAME, name.c_str(), 0, 0, 0);
}

void ignore_signals(std::initializer_list<int> signals) {
    for (const int s : signals) {
        (void)std::signal(s, SIG_IGN);
    }
}

}  // namespace cloudtime::sys
