// SPDX-License-Identifier: Apache-2.0
#include "check/lease_files.hpp"

#include <sstream>

namespace cloudtime::check {

namespace {
std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> out;
    std::string item;
    for (const char c : text) {
        if (c == separator || c == ' ' || c == '\t' || c == ';' || c == '\r') {
            if (!item.empty()) {
                out.push_back(item);
            }
            item.clear();
        } else {
            item.push_back(c);
        }
    }
    if (!item.empty()) {
        out.push_back(item);
    }
    return out;
}
}  // namespace

std::vector<std::string> ntp_servers_in_lease(std::string_view text) {
    std::vector<std::string> found;
    std::istringstream lines{std::string(text)};
    for (std::string line; std::getline(lines, line);) {
        const auto start = line.find_first_not_of(" \t");
        if (start == std::string::npos) {
            continue;
        }
        const std::string_view content = std::string_view(line).substr(start);
        constexpr std::string_view kDhclient = "option ntp-servers ";
        if (content.rfind(kDhclient, 0) == 0) {
            found = split(content.substr(kDhclient.size()), ',');  // a later lease replaces
            continue;
        }
        for (const std::string_view key : {"NTP=", "option_42_ntp_servers=", "ntp_servers="}) {
            if (content.rfind(key, 0) == 0) {
                found = split(content.substr(key.size()), ' ');
            }
        }
    }
    return found;
}

}  // namespace cloudtime::check
