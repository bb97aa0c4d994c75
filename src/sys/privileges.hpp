// SPDX-License-Identifier: Apache-2.0
// Dropping root for good: the serving process runs as an unprivileged user with no
// capabilities once its privileged work (binding, forking the namespace helper) is done.
#pragma once

#include <initializer_list>
#include <string>

#include "util/expected.hpp"

namespace cloudtime::sys {

// Whether `user` exists and is not root (what drop_privileges needs), without switching.
Status check_user(const std::string& user);

// Switches the whole process (call before starting threads) to `user`, its primary group and
// the groups /etc/group lists it in (chrony's `_chrony`, to reach chronyd's socket), with no
// capabilities and no way to regain any (no_new_privs); a parent-death signal stays armed.
Status drop_privileges(const std::string& user);

// Makes `directory` (and its parents) if missing, mode 0755 (other users' daemons, chronyd,
// reach the sockets in it), root's while the process is.
Status make_runtime_directory(const std::string& directory);
// Gives `directory` to `user` just before dropping to it, so that the process can still make
// and remove its socket files there.
Status hand_over_directory(const std::string& directory, const std::string& user);

// Whether `user` (with its groups) may write to `path`: send to a socket there, or make and
// remove files in a directory: search permission on every directory above it and write
// permission on it. The error names what stops it.
Status check_user_may_write(const std::string& user, const std::string& path);
// Whether `user` may read the file at `path` (search permission above it, read permission on it).
Status check_user_may_read(const std::string& user, const std::string& path);

enum class Capability { sys_admin, net_admin, net_bind_service };

// Keeps only `keep` of this process's capabilities (effective, permitted, and the bounding
// set, so that an exec cannot regain others; without CAP_SETPCAP to shrink the bounding set,
// no_new_privs instead); for a process that stays root but needs little.
Status keep_only_capabilities(std::initializer_list<Capability> keep);

// The effective capability set of this process, as /proc/self/status says (hex).
Expected<std::string> effective_capabilities();

}  // namespace cloudtime::sys
