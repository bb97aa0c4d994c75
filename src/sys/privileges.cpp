#include "sys/privileges.hpp"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <fstream>

#include "sys/fd.hpp"

namespace cloudtime::sys {

Status check_user(const std::string& user) {
    const passwd* entry = ::getpwnam(user.c_str());
    if (entry == nullptr) {
        return Error{"no such user '" + user + "'"};
    }
    if (entry->pw_uid == 0) {
        return Error{"user '" + user + "' is root: that drops nothing"};
    }
    return Done{};
}

Status drop_privileges(const std::string& user) {
    if (auto usable = check_user(user); !usable) {
        return usable;
    }
    const passwd* entry = ::getpwnam(user.c_str());
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

namespace {
int capability_number(Capability c) {
    switch (c) {
        case Capability::sys_admin:
            return CAP_SYS_ADMIN;
        case Capability::net_admin:
            return CAP_NET_ADMIN;
        case Capability::net_bind_service:
            return CAP_NET_BIND_SERVICE;
    }
    return -1;
}
}  // namespace

Status keep_only_capabilities(std::initializer_list<Capability> keep) {
    std::uint64_t mask = 0;
    for (const Capability c : keep) {
        mask |= std::uint64_t{1} << static_cast<unsigned>(capability_number(c));
    }
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
        if ((mask & (std::uint64_t{1} << static_cast<unsigned>(cap))) == 0 &&
            ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
            return os_error("prctl(PR_CAPBSET_DROP)");
        }
    }
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    std::array<__user_cap_data_struct, 2> data{};
    for (std::size_t i = 0; i < data.size(); ++i) {
        const auto word = static_cast<std::uint32_t>(mask >> (32 * i));
        data[i].effective = word;
        data[i].permitted = word;
        data[i].inheritable = 0;
    }
    if (::syscall(SYS_capset, &header, data.data()) != 0) {
        return os_error("capset");
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
