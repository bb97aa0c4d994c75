// SPDX-License-Identifier: Apache-2.0
// A seccomp filter for the serving process (libseccomp): once everything is started, only the
// system calls cloudtimed makes are allowed; any other kills the whole process at once
// (SIGSYS), so that a bug an attacker reaches cannot become a shell, a ptrace or a mount.
#pragma once

#include <cstddef>

#include "util/expected.hpp"

namespace cloudtime::sys {

enum class SyscallProfile {
    daemon,       // cloudtimed: NTP, tenant networks, its children, the status socket
    http_server,  // the vendordata process once serving: connections, TLS, nothing else
};

// Installs the filter on every thread of this process (and whatever it starts later). The
// number of system calls it allows.
Expected<std::size_t> restrict_system_calls(SyscallProfile profile);

// Makes one system call that the filter does not allow (personality(2), asking only): for the
// test that proves a forbidden call kills the process. Harmless without the filter.
void make_forbidden_call();

}  // namespace cloudtime::sys
