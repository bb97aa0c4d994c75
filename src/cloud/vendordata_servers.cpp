// SPDX-License-Identifier: Apache-2.0
#include "cloud/vendordata_servers.hpp"

#include <algorithm>
#include <sstream>

namespace cloudtime::cloud {

namespace {
std::string trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(" \t\r");
    return std::string(text.substr(first, last - first + 1));
}

std::string unquote(std::string text) {
    text = trim(text);
    if (text.size() >= 2 && (text.front() == '"' || text.front() == '\'') &&
        text.back() == text.front()) {
        return text.substr(1, text.size() - 2);
    }
    return text;
}

int indent_of(const std::string& line) {
    return static_cast<int>(line.find_first_not_of(' '));
}

void add(std::vector<std::string>& out, const std::string& server) {
    if (!server.empty() && std::find(out.begin(), out.end(), server) == out.end()) {
        out.push_back(server);
    }
}

void from_shell(const std::string& text, std::vector<std::string>& out) {
    const std::string key = "CLOUDTIME_SERVERS=";
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind(key, 0) != 0) {
            continue;
        }
        std::istringstream words(unquote(line.substr(key.size())));
        for (std::string w; words >> w;) {
            add(out, w);
        }
        return;
    }
}

// The `servers:` of a top-level `ntp:` mapping, block or flow style.
void from_cloud_config(const std::string& text, std::vector<std::string>& out) {
    std::istringstream lines(text);
    bool in_ntp = false;
    int servers_indent = -1;
    for (std::string line; std::getline(lines, line);) {
        const std::string content = trim(line);
        if (content.empty() || content.front() == '#') {
            continue;
        }
        const int indent = indent_of(line);
        if (indent == 0) {
            in_ntp = content.rfind("ntp:", 0) == 0;
            servers_indent = -1;
            continue;
        }
        if (!in_ntp) {
            continue;
        }
        if (servers_indent >= 0 && indent > servers_indent && content.rfind("- ", 0) == 0) {
            add(out, unquote(content.substr(2)));
            continue;
        }
        servers_indent = -1;
        if (content.rfind("servers:", 0) == 0) {
            const std::string rest = trim(content.substr(8));
            if (rest.empty()) {
                servers_indent = indent;
            } else if (rest.front() == '[' && rest.back() == ']') {
                std::istringstream items(rest.substr(1, rest.size() - 2));
                for (std::string item; std::getline(items, item, ',');) {
                    add(out, unquote(item));
                }
            }
        }
    }
}

// The text of each part: a string, or an object's "content".
std::vector<std::string> part_texts(const nlohmann::json& vendordata) {
    const nlohmann::json& value = vendordata.is_object() && vendordata.contains("cloud-init")
                                      ? vendordata["cloud-init"]
                                      : vendordata;
    std::vector<std::string> texts;
    const auto add_part = [&](const nlohmann::json& part) {
        if (part.is_string()) {
            texts.push_back(part.get<std::string>());
        } else if (part.is_object() && part.contains("content") && part["content"].is_string()) {
            texts.push_back(part["content"].get<std::string>());
        }
    };
    if (value.is_array()) {
        for (const auto& part : value) {
            add_part(part);
        }
    } else {
        add_part(value);
    }
    return texts;
}
}  // namespace

std::vector<std::string> ntp_servers_in_vendordata(const nlohmann::json& vendordata) {
    std::vector<std::string> out;
    for (const auto& text : part_texts(vendordata)) {
        if (text.rfind("#!", 0) == 0) {
            from_shell(text, out);
        } else if (text.rfind("#cloud-config", 0) == 0) {
            from_cloud_config(text, out);
        }
    }
    return out;
}

namespace {
bool shell_part_sets(const nlohmann::json& vendordata, std::string_view setting) {
    const auto texts = part_texts(vendordata);
    return std::any_of(texts.begin(), texts.end(), [setting](const std::string& text) {
        return text.rfind("#!", 0) == 0 && text.find(setting) != std::string::npos;
    });
}
}  // namespace

bool ptp_kvm_in_vendordata(const nlohmann::json& vendordata) {
    return shell_part_sets(vendordata, "\nCLOUDTIME_PTP_KVM=yes\n");
}

bool nts_in_vendordata(const nlohmann::json& vendordata) {
    return shell_part_sets(vendordata, "\nCLOUDTIME_NTS=yes\n");
}

}  // namespace cloudtime::cloud
