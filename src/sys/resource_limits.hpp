// SPDX-License-Identifier: Apache-2.0
// Process resource limits: descriptors raised for the daemon, memory and descriptors capped
// for a process that faces untrusted clients, a name in ps, signals it ignores.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include "util/expected.hpp"

namespace cloudtime::sys {

struct OpenFilesLimit {
    std::uint64_t soft = 0;
    std::uint64_t hard = 0;
};
// The limits on open descriptors in force now (an operator may change them while the process
// runs: prlimit --pid).
Expected<OpenFilesLimit> open_files_limit();
// Raises the soft limit on open descriptors to the hard one; the limits now in force.
Expected<OpenFilesLimit> raise_open_files_limit();
// Caps open descriptors (soft and hard) at `count`, or at the hard limit in force when that
// is lower; the cap now in force.
Expected<std::uint64_t> limit_open_files(std::uint64_t count);
// Caps the process's data (heap and private writable mappings) at `bytes`: an allocation
// beyond it fails instead of growing the process.
Status limit_data(std::uint64_t bytes);
// The number of descriptors this process has open now (/proc/self/fd).
std::size_t open_file_count();
// The memory this process has resident now (/proc/self/statm), in bytes; 0 if unreadable.
std::uint64_t resident_memory_bytes();

// The name ps and top show (/proc/self/comm; at most 15 characters kept).
void set_process_name(const std::string& name);
// These signals are ignored from now on (their default would end the process).
void ignore_signals(std::initializer_list<int> signals);

}  // namespace cloudtime::sys
