// SPDX-License-Identifier: Apache-2.0
// Child processes: one for privileged work (the tenant-network helper), forked before any
// thread starts and killed by the kernel when its parent dies; and other programs run to
// completion (xorriso).
#pragma once

#include <sys/types.h>
#include <functional>
#include <string>
#include <vector>

#include "util/expected.hpp"

namespace cloudtime::sys {

// Forks; the child runs `body` and exits with its result, and receives SIGKILL if the parent
// goes away first. Returns the child's pid in the parent.
Expected<pid_t> spawn_child(const std::function<int()>& body);

// Waits for the child to exit (after its channel was closed); its exit status, or -1.
int reap_child(pid_t pid);

struct ProgramResult {
    int exit_code = -1;  // -1: killed by a signal
    std::string output;  // stdout and stderr together
};
// Runs argv[0] (looked up in PATH) with no stdin and waits for it. An error only when it
// cannot be started at all ("xorriso: No such file or directory").
Expected<ProgramResult> run_program(const std::vector<std::string>& argv);

// Starts argv[0] (looked up in PATH) in the background with stdin from /dev/null and stdout
// and stderr appended to `log_path`; it is killed when this process dies (PDEATHSIG).
Expected<pid_t> spawn_program(const std::vector<std::string>& argv, const std::string& log_path);

// SIGTERM, then SIGKILL after `grace_ms`; reaps it. Its exit status, or -1 if killed.
int stop_child(pid_t pid, int grace_ms);

// Runs this program again (/proc/self/exe, so an upgraded binary on disk does not matter)
// as `name` (its argv[0], what ps shows) with `arguments`; `fds` become descriptors 3, 4, ... in
// the child, which inherits no other descriptor beyond 0-2, starts with no signal blocked, and is
// killed when this process dies. Safe to call with threads running (nothing but system calls
// between fork and exec).
Expected<pid_t> spawn_self(std::string name, const std::vector<std::string>& arguments,
                           const std::vector<int>& fds);

struct ChildEnd {
    bool exited = false;  // by itself, with `status`; else killed by `signal` (or not known)
    int status = -1;
    int signal = 0;
    std::string description;  // "exit status 1", "killed by signal 9 (Killed)"
};
// Waits up to `grace_ms` for the child to end, then kills it; reaps it and says how it ended.
ChildEnd await_child_end(pid_t pid, int grace_ms);

// Sends `sig` to the process `pid` (> 1); an error says why not ("Operation not permitted").
Status signal_process(int pid, int sig);

// Whether the child has exited (reaped if so), without waiting.
bool child_exited(pid_t pid);

// Whether a process whose name (/proc/PID/comm, at most 15 characters) is `comm` runs.
bool process_running(const std::string& comm);

}  // namespace cloudtime::sys
