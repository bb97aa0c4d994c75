// SPDX-License-Identifier: Apache-2.0
#include "sys/process.hpp"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "sys/fd.hpp"
#include "sys/paths.hpp"
#include "sys/text_file.hpp"

namespace cloudtime::sys {

namespace {
// A blocked signal stays blocked across exec: a program we start gets a clean mask.
void clear_signal_mask() {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
}
}  // namespace

Expected<pid_t> spawn_child(const std::function<int()>& body) {
    const pid_t parent = ::getpid();
    (void)std::fflush(nullptr);  // nothing buffered is written twice
    const pid_t pid = ::fork();
    if (pid < 0) {
        return os_error("fork");
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

Expected<ProgramResult> run_program(const std::vector<std::string>& argv) {
    if (argv.empty()) {
        return Error{"run_program: no program"};
    }
    std::array<int, 2> output{};
    std::array<int, 2> status{};  // the child writes errno here if exec fails
    if (::pipe2(output.data(), O_CLOEXEC) != 0 || ::pipe2(status.data(), O_CLOEXEC) != 0) {
        return os_error("pipe");
    }
    UniqueFd out_read(output[0]);
    UniqueFd out_write(output[1]);
    UniqueFd status_read(status[0]);
    UniqueFd status_write(status[1]);
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));  // execvp's signature, not modified
    }
    args.push_back(nullptr);
    (void)std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        return os_error("fork");
    }
    if (pid == 0) {
        clear_signal_mask();
        const int null = ::open("/dev/null", O_RDONLY);
        if (null < 0 || ::dup2(null, 0) < 0 || ::dup2(out_write.get(), 1) < 0 ||
            ::dup2(out_write.get(), 2) < 0) {
            ::_exit(127);
        }
        ::execvp(args[0], args.data());
        const int error = errno;
        [[maybe_unused]] const ssize_t n = ::write(status_write.get(), &error, sizeof(error));
        ::_exit(127);
    }
    out_write.reset();
    status_write.reset();
    ProgramResult result;
    std::array<char, 4096> buffer{};
    for (;;) {
        const ssize_t n = ::read(out_read.get(), buffer.data(), buffer.size());
        if (n > 0) {
            result.output.append(buffer.data(), static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
            break;
        }
    }
    int exec_error = 0;
    const bool exec_failed =
        ::read(status_read.get(), &exec_error, sizeof(exec_error)) == sizeof(exec_error);
    result.exit_code = reap_child(pid);
    if (exec_failed) {
        return Error{argv[0] + ": " + std::strerror(exec_error)};
    }
    return result;
}

bool process_running(const std::string& comm) {
    const auto entries = list_directory("/proc");
    if (!entries) {
        return false;
    }
    for (const auto& pid : *entries) {
        if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        auto name = read_text_file("/proc/" + pid + "/comm");
        if (name && name->substr(0, name->find('\n')) == comm.substr(0, 15)) {
            return true;
        }
    }
    return false;
}

Expected<pid_t> spawn_program(const std::vector<std::string>& argv, const std::string& log_path) {
    if (argv.empty()) {
        return Error{"spawn_program: no program"};
    }
    UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (!log.valid()) {
        return os_error(log_path);
    }
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));  // execvp's signature, not modified
    }
    args.push_back(nullptr);
    return spawn_child([&] {
        clear_signal_mask();
        const int null = ::open("/dev/null", O_RDONLY);
        if (null < 0 || ::dup2(null, 0) < 0 || ::dup2(log.get(), 1) < 0 ||
            ::dup2(log.get(), 2) < 0) {
            return 127;
        }
        ::execvp(args[0], args.data());
        const std::string why = std::string(argv[0]) + ": " + std::strerror(errno) + "\n";
        [[maybe_unused]] const ssize_t n = ::write(2, why.data(), why.size());
        return 127;
    });
}

Expected<pid_t> spawn_self(std::string name, const std::vector<std::string>& arguments,
                           const std::vector<int>& fds) {
    static constexpr int kFirstFd = 3;
    static constexpr int kParked = 64;  // above every target, so no dup2 overwrites a source
    static constexpr const char* kSelf = "/proc/self/exe";
    std::vector<char*> args;
    args.reserve(arguments.size() + 2);
    args.push_back(name.data());
    for (const auto& a : arguments) {
        args.push_back(const_cast<char*>(a.c_str()));  // execv's signature, not modified
    }
    args.push_back(nullptr);
    // The child of a threaded process: system calls only until exec (nothing allocates).
    return spawn_child([&] {
        std::array<int, 16> parked{};
        const std::size_t count = std::min(fds.size(), parked.size());
        for (std::size_t i = 0; i < count; ++i) {
            parked[i] = ::fcntl(fds[i], F_DUPFD_CLOEXEC, kParked);
            if (parked[i] < 0) {
                return 126;
            }
        }
        for (std::size_t i = 0; i < count; ++i) {
            if (::dup2(parked[i], kFirstFd + static_cast<int>(i)) < 0) {  // clears CLOEXEC
                return 126;
            }
        }
        ::close_range(static_cast<unsigned>(kFirstFd) + static_cast<unsigned>(count), ~0U, 0);
        clear_signal_mask();
        ::execv(kSelf, args.data());
        return 127;
    });
}

ChildEnd await_child_end(pid_t pid, int grace_ms) {
    int status = 0;
    pid_t reaped = 0;
    for (int waited = 0; (reaped = ::waitpid(pid, &status, WNOHANG)) == 0 && waited < grace_ms;
         waited += 10) {
        ::usleep(10'000);
    }
    if (reaped == 0) {
        ::kill(pid, SIGKILL);
        reaped = ::waitpid(pid, &status, 0);
    }
    if (reaped != pid) {
        return {.description = "not known (" + std::string(std::strerror(errno)) + ")"};
    }
    if (WIFEXITED(status)) {
        return {.exited = true,
                .status = WEXITSTATUS(status),
                .description = "exit status " + std::to_string(WEXITSTATUS(status))};
    }
    const int sig = WTERMSIG(status);
    return {.signal = sig,
            .description = "killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")"};
}

Status signal_process(int pid, int sig) {
    if (pid <= 1) {
        return Error{"no process to signal (pid " + std::to_string(pid) + ")"};
    }
    if (::kill(pid, sig) != 0) {
        return Error{std::string(std::strerror(errno))};
    }
    return Done{};
}

bool child_exited(pid_t pid) {
    int status = 0;
    return ::waitpid(pid, &status, WNOHANG) == pid;
}

int stop_child(pid_t pid, int grace_ms) {
    ::kill(pid, SIGTERM);
    for (int waited = 0; waited < grace_ms; waited += 10) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        ::usleep(10'000);
    }
    ::kill(pid, SIGKILL);
    return reap_child(pid);
}

}  // namespace cloudtime::sys
