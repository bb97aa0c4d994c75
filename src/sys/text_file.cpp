#include "sys/text_file.hpp"

#include <glob.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace cloudtime::sys {

Expected<std::string> read_text_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        const int err = errno;
        return Error{std::strerror(err), err};
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
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
