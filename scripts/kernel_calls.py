#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Fails when code outside the kernel's rooms calls the kernel directly.

docs/design.md: src/sys (the process), src/net (sockets and networks), src/tls and src/http (their
servers' sockets) are the only rooms that touch the kernel. This finds, in C++ files outside
them, calls of the system-call wrappers listed below (in call position, with or
without the global `::`) and includes of the headers that declare them. Comments and string
literals are ignored. The list is maintained here: add a name when code starts using a new
kernel interface.

    scripts/kernel_calls.py [FILE...]     (default: every src/**/*.cpp|hpp under git)
Exit 0 when clean, 1 with one FILE:LINE: line per finding.
"""
import re
import subprocess
import sys
from pathlib import Path

# The rooms that may call the kernel.
ROOMS = ("sys", "net", "tls", "http")
NAMED = "src/" + ", src/".join(ROOMS)

CALLS = """
socket socketpair bind connect listen accept accept4 shutdown read write pread pwrite readv
writev recv recvfrom recvmsg recvmmsg send sendto sendmsg sendmmsg open openat creat close
ioctl fcntl setsockopt getsockopt epoll_create epoll_create1 epoll_ctl epoll_wait epoll_pwait
eventfd poll ppoll select pselect stat lstat fstat fstatat statx access faccessat unlink
unlinkat mkdir mkdirat rmdir mkdtemp mkstemp setns unshare clone fork vfork execve execv execvp
execvpe waitpid waitid wait4 kill signalfd sigprocmask pthread_sigmask geteuid getuid getegid
getgid setuid setgid setresuid setresgid setgroups initgroups prctl capset capget clock_gettime
clock_adjtime adjtimex ntp_adjtime ntp_gettime gettimeofday settimeofday mount umount umount2
inotify_init inotify_init1 inotify_add_watch inotify_rm_watch timerfd_create timerfd_settime
pipe pipe2 dup dup2 dup3 chdir chroot chmod fchmod chown fchown rename symlink readlink getpid
getppid gettid mmap munmap mlock mlockall getifaddrs freeifaddrs if_nametoindex if_indextoname
getaddrinfo getnameinfo getpwnam getgrnam getpwnam_r getgrnam_r getrlimit setrlimit
sched_setaffinity syscall opendir readdir closedir nanosleep usleep sleep
""".split()

HEADERS = re.compile(
    r"#\s*include\s*<(unistd\.h|fcntl\.h|poll\.h|sched\.h|dirent\.h|ifaddrs\.h|netdb\.h|"
    r"pwd\.h|grp\.h|net/if\.h|sys/(?!types\.h)[\w/]+\.h|linux/[\w/]+\.h)>")

# A call: the name in expression position (after an operator, a bracket, `return`, or at the
# start of a statement), optionally with the global `::`, then `(`. Member calls (a.read(),
# p->close()), qualified ones (sys::read()) and declarations (Status bind(...)) do not match.
CALL = re.compile(
    r"(?:(?<=[=(,!&|?{};:+\-*/[])|^|(?<=\breturn)|(?<=\bnot))\s*(::)?\s*(" +
    "|".join(CALLS) + r")\s*\(", re.MULTILINE)


def strip(text):
    """Comments and string/char literals blanked out, line breaks kept."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith('R"', i):
            delim_end = text.find("(", i)
            delim = text[i + 2:delim_end]
            j = text.find(")" + delim + '"', delim_end)
            j = n if j < 0 else j + len(delim) + 2
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def findings(path):
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    for m in HEADERS.finditer(text):
        yield text.count("\n", 0, m.start()) + 1, f"includes <{m.group(1)}>"
    code = strip(text)
    code = "\n".join("" if line.lstrip().startswith("#") else line for line in code.split("\n"))
    for m in CALL.finditer(code):
        # `::name(` right after a qualifier (sys::read) is a qualified call, not a raw one.
        before = code[:m.start(1) if m.group(1) else m.start(2)].rstrip()
        if m.group(1) is None and before.endswith("::"):
            continue
        if m.group(1) and re.search(r"\w$", before):
            continue
        yield code.count("\n", 0, m.start(2)) + 1, f"calls {m.group(2)}()"


def main(argv):
    files = argv[1:]
    if not files:
        files = subprocess.run(["git", "ls-files", "src/*.cpp", "src/*.hpp"], check=True,
                               capture_output=True, text=True).stdout.split()
    bad = 0
    for path in files:
        posix = Path(path).as_posix()
        if any(posix.startswith(f"src/{room}/") or f"/src/{room}/" in posix for room in ROOMS):
            continue
        for line, what in findings(path):
            print(f"{path}:{line}: {what}: the kernel is reached only through {NAMED}")
            bad += 1
    if bad:
        print(f"kernel calls: {bad} outside {NAMED}", file=sys.stderr)
        return 1
    print(f"kernel calls: none outside {NAMED} ({len(files)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
