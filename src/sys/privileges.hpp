// Dropping root for good: the serving process runs as an unprivileged user with no
// capabilities once its privileged work (binding, forking the namespace helper) is done.
#pragma once

#include <string>

#include "util/expected.hpp"

namespace cloudtime::sys {

// Switches the whole process (call before starting threads) to `user` and its primary group,
// with no supplementary groups, no capabilities and no way to regain any (no_new_privs).
Status drop_privileges(const std::string& user);

// The effective capability set of this process, as /proc/self/status says (hex).
Expected<std::string> effective_capabilities();

}  // namespace cloudtime::sys
