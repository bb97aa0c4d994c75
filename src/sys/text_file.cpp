#include "sys/text_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace cloudtime::sys {

Expected<std::string> read_text_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        return Error{std::strerror(errno)};
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace cloudtime::sys
