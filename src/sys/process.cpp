#include "sys/process.hpp"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>

#include "sys/fd.hpp"

namespace cloudtime::sys {

Expected<pid_t> spawn_child(const std::function<int()>& body) {
    const pid_t parent = ::getpid();
    (void)std::fflush(nullptr);  // nothing buffered is written twice
    const pid_t pid = ::fork();
    if (pid < 0) {
        return Error{errno_message("fork")};
    }
    if (pid == 0) {
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) {
            ::_exit(1);  // the parent is already gone
        }
        ::_exit(body());
    }
    return pid;
}

int reap_child(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace cloudtime::sys
