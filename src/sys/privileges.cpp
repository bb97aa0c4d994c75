// SPDX-License-Identifier: Apache-2.0
#include "sys/privileges.hpp"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <vector>

#include "sys/fd.hpp"
#include "sys/paths.hpp"

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
    // The kernel clears a parent-death signal when the uid changes: armed again below, or a
    // child process (the vendordata one) would outlive a cloudtimed killed with SIGKILL.
    int death_signal = 0;
    if (::prctl(PR_GET_PDEATHSIG, &death_signal, 0, 0, 0) != 0) {
        return os_error("prctl(PR_GET_PDEATHSIG)");
    }
    const pid_t parent = ::getppid();
    if (::initgroups(user.c_str(), entry->pw_gid) != 0) {
        return os_error("initgroups");
    }
    if (::setgid(entry->pw_gid) != 0) {
        return os_error("setgid");
    }
    // From root to another uid the kernel clears every capability (no SECBIT_KEEP_CAPS).
    if (::setuid(entry->pw_uid) != 0) {
        return os_error("setuid");
    }
    if (death_signal != 0) {
        if (::prctl(PR_SET_PDEATHSIG, death_signal, 0, 0, 0) != 0) {
            return os_error("prctl(PR_SET_PDEATHSIG)");
        }
        if (::getppid() != parent) {  // it died before the signal was armed again
            return Error{"the parent process ended while privileges were dropped"};
        }
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

Status make_runtime_directory(const std::string& directory) {
    std::error_code ec;
    std::filesystem::create_directories(directory, ec);
    if (ec) {
        return Error{"cannot make " + directory + ": " + ec.message()};
    }
    // Root's again until the drop (a previous run gave it away, and root without
    // CAP_DAC_OVERRIDE cannot write in another user's directory).
    if (running_as_root() && ::chown(directory.c_str(), 0, 0) != 0) {
        return os_error("chown " + directory);
    }
    if (::chmod(directory.c_str(), 0755) != 0) {
        return os_error("chmod " + directory);
    }
    return Done{};
}

Status hand_over_directory(const std::string& directory, const std::string& user) {
    const passwd* entry = ::getpwnam(user.c_str());
    if (entry == nullptr) {
        return Error{"no such user '" + user + "'"};
    }
    if (::chown(directory.c_str(), entry->pw_uid, entry->pw_gid) != 0) {
        return os_error("chown " + directory + " to " + user);
    }
    return Done{};
}

namespace {
std::string mode_text(const struct stat& st) {
    const group* g = ::getgrgid(st.st_gid);
    const passwd* p = ::getpwuid(st.st_uid);
    return fmt::format("{:04o} {}:{}", st.st_mode & 07777U,
                       p != nullptr ? p->pw_name : std::to_string(st.st_uid),
                       g != nullptr ? g->gr_name : std::to_string(st.st_gid));
}

// The permission class (owner, group, other) `uid` with `groups` falls in, as the kernel
// picks it: the first that matches, not the most generous.
bool allowed(const struct stat& st, uid_t uid, std::span<const gid_t> groups, unsigned owner_bit) {
    if (st.st_uid == uid) {
        return (st.st_mode & owner_bit) != 0;
    }
    if (std::find(groups.begin(), groups.end(), st.st_gid) != groups.end()) {
        return (st.st_mode & (owner_bit >> 3U)) != 0;
    }
    return (st.st_mode & (owner_bit >> 6U)) != 0;
}
}  // namespace

namespace {
Status check_user_may(const std::string& user, const std::string& path, unsigned owner_bit) {
    const passwd* entry = ::getpwnam(user.c_str());
    if (entry == nullptr) {
        return Error{"no such user '" + user + "'"};
    }
    const uid_t uid = entry->pw_uid;
    std::vector<gid_t> groups(64);
    int count = static_cast<int>(groups.size());
    if (::getgrouplist(user.c_str(), entry->pw_gid, groups.data(), &count) < 0) {
        groups.resize(static_cast<std::size_t>(count));
        ::getgrouplist(user.c_str(), entry->pw_gid, groups.data(), &count);
    }
    groups.resize(static_cast<std::size_t>(std::max(count, 0)));
    const std::filesystem::path target(path);
    std::filesystem::path walked = target.root_path();
    for (const auto& part : target.relative_path().parent_path()) {
        walked /= part;
        struct stat st {};
        if (::stat(walked.c_str(), &st) != 0) {
            return os_error(walked.string());
        }
        if (!allowed(st, uid, groups, S_IXUSR)) {
            return Error{"user '" + user + "' may not enter " + walked.string() + " (" +
                         mode_text(st) + ")"};
        }
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return os_error(path);
    }
    if (!allowed(st, uid, groups, owner_bit)) {
        return Error{"user '" + user + "' may not " +
                     (owner_bit == S_IWUSR ? "write to " : "read ") + path + " (" + mode_text(st) +
                     ")"};
    }
    return Done{};
}
}  // namespace

Status check_user_may_write(const std::string& user, const std::string& path) {
    return check_user_may(user, path, S_IWUSR);
}

Status check_user_may_read(const std::string& user, const std::string& path) {
    return check_user_may(user, path, S_IRUSR);
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
    // The bounding set shrinks only with CAP_SETPCAP, which systemd's CapabilityBoundingSet
    // for this service leaves out: then no_new_privs is what stops an exec from regaining
    // anything (the bounding set only limits what an exec may gain).
    bool bounding_dropped = true;
    for (int cap = 0; cap <= CAP_LAST_CAP && bounding_dropped; ++cap) {
        const bool kept = (mask & (std::uint64_t{1} << static_cast<unsigned>(cap))) != 0;
        if (kept || ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1) {
            continue;
        }
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
            if (errno != EPERM) {
                return os_error("prctl(PR_CAPBSET_DROP)");
            }
            bounding_dropped = false;
        }
    }
    if (!bounding_dropped && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        return os_error("prctl(PR_SET_NO_NEW_PRIVS)");
    }
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    std::array<__user_cap_data_struct, 2> data{};
    for (std::size_t i = 0; i < data.size(); ++i) {
        const auto word = static_cast<std::uint32_t>(i == 0 ? mask : mask >> 32U);
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
