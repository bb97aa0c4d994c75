// SPDX-License-Identifier: Apache-2.0
// cloudtime-config-docs: what the config key table makes for people.
//   cloudtime-config-docs default          the default config (as --print-default-config)
//   cloudtime-config-docs man              cloudtimed.toml(5) as markdown, for go-md2man
//   cloudtime-config-docs guide FILE       exit 1, naming each section, when FILE's key tables
//                                          differ from the table's
//   cloudtime-config-docs guide FILE --write   renews them in FILE
// In the guide a section's table stands between "<!-- keys [NAME] -->" and "<!-- end keys -->".
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>

#include "config/config_reference.hpp"

namespace ct = cloudtime;

namespace {

constexpr int kUsage = 64;

std::string begin_marker(std::string_view section) {
    return "<!-- keys [" + std::string(section) + "] -->\n";
}
constexpr std::string_view kEndMarker = "<!-- end keys -->\n";

// The guide with every section's table made anew; `stale` names those that were not.
std::string renewed(const std::string& guide, std::string& stale, std::string& missing) {
    std::string out = guide;
    for (const auto& section : ct::config::config_sections()) {
        const std::string begin = begin_marker(section.name);
        const std::size_t at = out.find(begin);
        const std::size_t end = at == std::string::npos ? at : out.find(kEndMarker, at);
        if (end == std::string::npos) {
            missing += " [" + std::string(section.name) + "]";
            continue;
        }
        const std::size_t from = at + begin.size();
        const std::string table = ct::config::render_key_table(section);
        if (out.compare(from, end - from, table) != 0) {
            stale += " [" + std::string(section.name) + "]";
            out.replace(from, end - from, table);
        }
    }
    return out;
}

int guide(const std::string& path, bool write) {
    std::ifstream in(path);
    if (!in) {
        std::cerr << "cloudtime-config-docs: cannot read " << path << "\n";
        return 1;
    }
    std::stringstream text;
    text << in.rdbuf();
    std::string stale;
    std::string missing;
    const std::string out = renewed(text.str(), stale, missing);
    if (!missing.empty()) {
        std::cerr << "cloudtime-config-docs: " << path << " has no key table for" << missing
                  << " (between " << begin_marker("NAME").substr(0, 20) << "... and "
                  << kEndMarker.substr(0, kEndMarker.size() - 1) << ")\n";
        return 1;
    }
    if (stale.empty()) {
        return 0;
    }
    if (!write) {
        std::cerr << "cloudtime-config-docs: " << path << ": the key tables of" << stale
                  << " differ from the config key table (src/config/*_keys.cpp); renew them "
                     "with: cloudtime-config-docs guide "
                  << path << " --write\n";
        return 1;
    }
    std::ofstream(path) << out;
    std::cout << "renewed" << stale << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string_view what = argc >= 2 ? argv[1] : "";
    if (what == "default" && argc == 2) {
        std::cout << ct::config::render_default_config();
        return 0;
    }
    if (what == "man" && argc == 2) {
        std::cout << ct::config::render_man_page();
        return 0;
    }
    if (what == "guide" && (argc == 3 || (argc == 4 && std::string_view(argv[3]) == "--write"))) {
        return guide(argv[2], argc == 4);
    }
    std::cerr << "usage: cloudtime-config-docs default | man | guide FILE [--write]\n";
    return kUsage;
}
