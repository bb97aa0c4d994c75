// Dropping root for good: the serving process runs as an unprivileged user with no
// capabilities once its privileged work (binding, forking the namespace helper) is done.
#pragma once

#include <initializer_list>
#include <string>

#include "util/expected.hpp"

namespace cloudtime::sys {

// Whether `user` exists and is not root (what drop_privileges needs), without switching.
Status check_user(const std::string& user);

// Switches the whole process (call before starting threads) to `user` and its primary group,
// with no supplementary groups, no capabilities and no way to regain any (no_new_privs).
Status drop_privileges(const std::string& user);

enum class Capability { sys_admin, net_admin, net_bind_service };

// Keeps only `keep` of this process's capabilities (effective, permitted, and the bounding
// set, so that an exec cannot regain others); for a process that stays root but needs little.
Status keep_only_capabilities(std::initializer_list<Capability> keep);

// The effective capability set of this process, as /proc/self/status says (hex).
Expected<std::string> effective_capabilities();

}  // namespace cloudtime::sys
