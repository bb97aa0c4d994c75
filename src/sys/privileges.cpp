#include "sys/privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <fstream>

#include "sys/fd.hpp"

namespace cloudtime::sys {

Status drop_privileges(const std::string& user) {
    const passwd* entry = ::getpwnam(user.c_str());
    if (entry == nullptr) {
        return Error{"no such user '" + user + "'"};
    }
    if (entry->pw_uid == 0) {
        return Error{"user '" + user + "' is root: that drops nothing"};
    }
    if (::setgroups(0, nullptr) != 0) {
        return os_error("setgroups");
    }
    if (::setgid(entry->pw_gid) != 0) {
        return os_error("setgid");
    }
    // From root to another uid the kernel clears every capability (no SECBIT_KEEP_CAPS).
    if (::setuid(entry->pw_uid) != 0) {
        return os_error("setuid");
    }
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        return os_error("prctl(PR_SET_NO_NEW_PRIVS)");
    }
    if (::setuid(0) == 0) {
        return Error{"still able to become root after dropping privileges"};
    }
    auto caps = effective_capabilities();
    if (!caps) {
        return caps.failure();
    }
    if (caps->find_first_not_of('0') != std::string::npos) {
        return Error{"capabilities left after dropping privileges: " + *caps};
    }
    return Done{};
}

Expected<std::string> effective_capabilities() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("CapEff:", 0) == 0) {
            const auto start = line.find_first_not_of(" \t", 7);
            return start == std::string::npos ? std::string() : line.substr(start);
        }
    }
    return Error{"no CapEff in /proc/self/status"};
}

}  // namespace cloudtime::sys
