// SPDX-License-Identifier: Apache-2.0
#include "check/channel_texts.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cloud/instance_metadata.hpp"
#include "cloud/vendordata_servers.hpp"

namespace cloudtime::check {

Expected<std::vector<std::string>> servers_in_vendordata_text(const std::string& text,
                                                              const std::string& source,
                                                              VmFacts& facts) {
    const auto doc = nlohmann::json::parse(text, nullptr, false);
    if (doc.is_discarded()) {
        return Error{"not JSON"};
    }
    if (facts.ptp_requested_by.empty() && cloud::ptp_kvm_in_vendordata(doc)) {
        facts.ptp_requested_by = source;
    }
    if (facts.nts_requested_by.empty() && cloud::nts_in_vendordata(doc)) {
        facts.nts_requested_by = source;
    }
    return cloud::ntp_servers_in_vendordata(doc);
}

bool meta_data_opts_out(const std::string& text) {
    const auto doc = nlohmann::json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("meta") ||
        !doc["meta"].is_object()) {
        return false;
    }
    std::map<std::string, std::string> meta;
    for (const auto& [key, value] : doc["meta"].items()) {
        if (value.is_string()) {
            meta[key] = value.get<std::string>();
        }
    }
    return cloud::opts_out(meta);
}

std::vector<std::string> timesyncd_servers_in(const std::vector<std::string>& texts) {
    std::vector<std::string> servers;
    for (const auto& text : texts) {
        std::istringstream lines(text);
        for (std::string line; std::getline(lines, line);) {
            if (line.rfind("NTP=", 0) == 0) {
                servers.clear();  // a later file replaces
                std::istringstream words(line.substr(4));
                for (std::string w; words >> w;) {
                    servers.push_back(w);
                }
            }
        }
    }
    return servers;
}

void add_server(VmFacts& f, const std::string& server, const std::string& found_by) {
    auto it = std::find_if(f.servers.begin(), f.servers.end(),
                           [&](const auto& s) { return s.server == server; });
    if (it == f.servers.end()) {
        f.servers.push_back({server, {}, Error{"not measured"}});
        it = f.servers.end() - 1;
    }
    if (std::find(it->found_by.begin(), it->found_by.end(), found_by) == it->found_by.end()) {
        it->found_by.push_back(found_by);
    }
}

void add_channel_servers(VmFacts& f) {
    for (const auto& c : f.channels) {
        for (const auto& s : c.servers ? *c.servers : std::vector<std::string>{}) {
            add_server(f, s, c.kind);
        }
    }
}

}  // namespace cloudtime::check
