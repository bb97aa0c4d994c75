// A child process for privileged work (the tenant-network helper): forked before any thread
// starts, killed by the kernel when its parent dies.
#pragma once

#include <sys/types.h>
#include <functional>

#include "util/expected.hpp"

namespace cloudtime::sys {

// Forks; the child runs `body` and exits with its result, and receives SIGKILL if the parent
// goes away first. Returns the child's pid in the parent.
Expected<pid_t> spawn_child(const std::function<int()>& body);

// Waits for the child to exit (after its channel was closed); its exit status, or -1.
int reap_child(pid_t pid);

}  // namespace cloudtime::sys
