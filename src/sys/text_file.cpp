// SPDX-License-Identifier: Apache-2.0
#include "sys/text_file.hpp"

#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace cloudtime::sys {

namespace {
constexpr int kPipeTimeoutMs = 10'000;

// The system's reason alone ("No such file or directory"): callers name the file.
Error reason_from_errno() {
    const int err = errno;
    return Error{std::strerror(err), err};
}

const char* kind_name(mode_t mode) {
    switch (mode & S_IFMT) {
        case S_IFIFO:
            return "a FIFO";
        case S_IFCHR:
            return "a character device";
        case S_IFBLK:
            return "a block device";
        case S_IFSOCK:
            return "a socket";
        case S_IFDIR:
            return "a directory";
        default:
            return "not a regular file";
    }
}

// Reads `fd` to its end, at most max_bytes; a pipe is waited for with a deadline.
Expected<std::string> read_to_end(int fd, std::size_t max_bytes, bool pipe) {
    std::string out;
    std::array<char, 65536> buffer{};
    for (;;) {
        const ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n > 0) {
            out.append(buffer.data(), static_cast<std::size_t>(n));
            if (out.size() > max_bytes) {
                return Error{"larger than " + std::to_string(max_bytes) + " bytes", EFBIG};
            }
        } else if (n == 0) {
            return out;
        } else if (errno == EAGAIN && pipe) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, kPipeTimeoutMs) == 0) {
                return Error{"nothing more to read for 10 s", ETIMEDOUT};
            }
        } else if (errno != EINTR) {
            return reason_from_errno();
        }
    }
}
}  // namespace

Expected<std::string> read_text_file(const std::string& path, std::size_t max_bytes,
                                     bool pipe_allowed) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (!fd.valid()) {
        return reason_from_errno();
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return reason_from_errno();
    }
    const bool pipe = S_ISFIFO(st.st_mode);
    if (!S_ISREG(st.st_mode) && !(pipe && pipe_allowed)) {
        return Error{std::string("not a regular file (") + kind_name(st.st_mode) + ")", EINVAL};
    }
    if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
        return Error{"larger than " + std::to_string(max_bytes) + " bytes (" +
                         std::to_string(st.st_size) + ")",
                     EFBIG};
    }
    auto text = read_to_end(fd.get(), max_bytes, pipe);
    if (text && pipe && text->empty()) {  // a FIFO nobody writes to reads as empty at once
        return Error{"nothing to read from the pipe", ENODATA};
    }
    return text;
}

Expected<UniqueFd> memory_file(const std::string& name, std::string_view contents) {
    UniqueFd fd(::memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!fd.valid()) {
        return os_error("memfd_create");
    }
    for (std::size_t done = 0; done < contents.size();) {
        const ssize_t n = ::write(fd.get(), contents.data() + done, contents.size() - done);
        if (n < 0 && errno != EINTR) {
            return os_error("memfd write");
        }
        done += n > 0 ? static_cast<std::size_t>(n) : 0;
    }
    if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) !=
        0) {
        return os_error("memfd seal");
    }
    return fd;
}

Expected<std::string> read_whole(int fd, std::size_t max_bytes) {
    if (::lseek(fd, 0, SEEK_SET) != 0) {
        return os_error("lseek");
    }
    return read_to_end(fd, max_bytes, false);
}

Status write_text_file(const std::string& path, std::string_view contents) {
    std::error_code ec;
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) {
        std::filesystem::create_directories(parent, ec);
        if (ec) {
            return Error{parent.string() + ": " + ec.message()};
        }
    }
    const std::string temporary = path + ".new";
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
        out.close();
        if (!out) {
            (void)std::remove(temporary.c_str());
            return Error{temporary + ": " + std::strerror(errno)};
        }
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        (void)std::remove(temporary.c_str());
        return Error{path + ": " + why};
    }
    return Done{};
}

Status write_private_file(const std::string& path, std::string_view contents) {
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty() && ::mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST) {
        return Error{parent.string() + ": " + std::strerror(errno), errno};
    }
    const std::string temporary = path + ".new";
    (void)::unlink(temporary.c_str());  // a leftover of a crash: made again, 0600
    UniqueFd fd(
        ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) {
        return Error{temporary + ": " + std::strerror(errno), errno};
    }
    const auto fail = [&temporary](int err) {
        (void)::unlink(temporary.c_str());
        return Error{temporary + ": " + std::strerror(err), err};
    };
    std::string_view rest = contents;
    while (!rest.empty()) {
        const ssize_t n = ::write(fd.get(), rest.data(), rest.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return fail(n < 0 ? errno : EIO);
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    if (::fsync(fd.get()) != 0) {
        return fail(errno);
    }
    fd.reset();
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        return fail(errno);
    }
    return Done{};
}

Expected<bool> readable_by_others(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return Error{path + ": " + std::strerror(errno), errno};
    }
    return (st.st_mode & (S_IRWXG | S_IRWXO)) != 0;
}

std::vector<std::string> glob_files(const std::string& pattern) {
    glob_t matches{};
    std::vector<std::string> out;
    if (::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &matches) == 0) {
        for (std::size_t i = 0; i < matches.gl_pathc; ++i) {
            out.emplace_back(matches.gl_pathv[i]);
        }
    }
    ::globfree(&matches);
    std::sort(out.begin(), out.end());
    return out;
}

Status write_file_tree(const std::string& root, const std::map<std::string, std::string>& files) {
    for (const auto& [path, contents] : files) {
        if (auto written = write_text_file(root + "/" + path, contents); !written) {
            return written;
        }
    }
    return Done{};
}

}  // namespace cloudtime::sys
