// SPDX-License-Identifier: Apache-2.0
#include "sys/seccomp_filter.hpp"

#include <seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <memory>

namespace cloudtime::sys {

namespace {

// clang-format off
// What both processes make: memory, signals, time, descriptors, epoll, and serving the
// connections or datagrams they were handed.
constexpr std::array kCommon = {
    "brk", "mmap", "munmap", "mprotect", "mremap", "madvise", "futex", "exit", "exit_group",
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "tgkill", "getpid",
    "gettid", "getrandom", "clock_gettime", "clock_getres", "gettimeofday", "time",
    "restart_syscall", "openat", "read", "write", "readv", "writev", "close", "lseek", "fcntl",
    "newfstatat", "fstat", "ioctl", "pipe2", "epoll_create1", "epoll_ctl", "epoll_wait",
    "epoll_pwait", "eventfd2", "timerfd_create", "timerfd_settime", "timerfd_gettime",
    "accept", "accept4", "shutdown", "getsockname", "getpeername", "getsockopt", "setsockopt",
    "recvfrom", "recvmsg", "sendto", "sendmsg",
};

// What the daemon, its threads and the vendordata process it (re)starts make besides: found
// by tracing the whole integration suite (strace -f), completed with the calls of rare paths
// (stopping, restarting a child, the clock's fallbacks). In-process tenant networks (no
// server.user) need setns, netlink, nftables and inotify. The vendordata process gets
// kCommon only, once it serves: no new sockets, no exec, no namespaces, no identity changes.
constexpr std::array kDaemonOnly = {
    "clone", "clone3", "set_robust_list", "rseq", "set_tid_address", "kill", "getppid",
    "getuid", "geteuid", "getgid", "getegid", "sched_yield", "sched_getaffinity",
    "clock_nanosleep", "nanosleep", "clock_adjtime", "prlimit64", "sysinfo", "uname",
    "arch_prctl", "prctl", "wait4", "execve", "close_range", "capset", "setuid", "setgid",
    "setgroups", "pread64", "statx", "access", "faccessat", "getdents64", "readlinkat",
    "unlink", "unlinkat", "chmod", "fchmod", "mkdir", "mkdirat", "memfd_create", "dup", "dup2",
    "dup3", "poll", "ppoll", "pselect6", "signalfd4", "inotify_init1", "inotify_add_watch",
    "inotify_rm_watch", "socket", "socketpair", "bind", "listen", "connect", "recvmmsg",
    "sendmmsg", "setns",
    // the NTS cookie keys' file, written whole at each rotation
    "fsync", "rename", "renameat", "renameat2",
    // a restarted vendordata process installs its own, narrower filter (only ever narrower)
    "seccomp",
};
// clang-format on

// The calls the sanitizers' run-time makes besides (reports, stack traces, shadow memory).
#ifdef CLOUDTIME_SANITIZED
constexpr std::array kSanitizerAllowed = {
    "readlink", "open", "stat", "lstat", "mincore", "getrusage",
    // LeakSanitizer's check at exit: a tracer task stops every thread and reads their stacks
    "ptrace", "getdents", "sched_yield", "waitid", "process_vm_readv"};
#endif

struct ContextFree {
    void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};

}  // namespace

Expected<std::size_t> restrict_system_calls(SyscallProfile profile) {
    std::unique_ptr<void, ContextFree> ctx(seccomp_init(SCMP_ACT_KILL_PROCESS));
    if (!ctx) {
        return Error{"seccomp: cannot create a filter"};
    }
    // Every thread, not only the calling one: the workers parse what clients send.
    if (const int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_TSYNC, 1); rc != 0) {
        return Error{std::string("seccomp: cannot cover every thread: ") + std::strerror(-rc), -rc};
    }
    std::size_t allowed = 0;
    const auto allow = [&](const char* name) -> Status {
        const int number = seccomp_syscall_resolve_name(name);
        if (number == __NR_SCMP_ERROR) {
            return Done{};  // not on this architecture
        }
        if (const int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, number, 0); rc != 0) {
            return Error{std::string("seccomp: cannot allow ") + name + ": " + std::strerror(-rc),
                         -rc};
        }
        ++allowed;
        return Done{};
    };
    const auto allow_all = [&](const auto& names) -> Status {
        for (const char* name : names) {
            if (auto s = allow(name); !s) {
                return s;
            }
        }
        return Done{};
    };
    if (auto s = allow_all(kCommon); !s) {
        return s.failure();
    }
    if (profile == SyscallProfile::daemon) {
        if (auto s = allow_all(kDaemonOnly); !s) {
            return s.failure();
        }
    }
#ifdef CLOUDTIME_SANITIZED
    if (auto s = allow_all(kSanitizerAllowed); !s) {
        return s.failure();
    }
#endif
    if (const int rc = seccomp_load(ctx.get()); rc != 0) {
        return Error{std::string("seccomp: cannot load the filter: ") + std::strerror(-rc), -rc};
    }
    return allowed;
}

void make_forbidden_call() {
    (void)::syscall(SYS_personality, 0xFFFFFFFFUL);  // asks for the persona, changes nothing
}

}  // namespace cloudtime::sys
