// SPDX-License-Identifier: Apache-2.0
#include "cloud/config_drive.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace cloudtime::cloud {

namespace {
std::string netmask(int prefix_length) {
    const std::uint32_t mask = prefix_length == 0 ? 0U : ~std::uint32_t{0} << (32 - prefix_length);
    return fmt::format("{}.{}.{}.{}", mask >> 24, (mask >> 16) & 0xffU, (mask >> 8) & 0xffU,
                       mask & 0xffU);
}

nlohmann::json network_data(const std::optional<StaticIpv4>& nic) {
    nlohmann::json doc = {{"links", nlohmann::json::array()},
                          {"networks", nlohmann::json::array()},
                          {"services", nlohmann::json::array()}};
    if (!nic) {
        return doc;
    }
    doc["links"].push_back(
        {{"id", "tap0"}, {"type", "phy"}, {"ethernet_mac_address", nic->mac}, {"mtu", 1500}});
    nlohmann::json network = {{"id", "network0"},
                              {"link", "tap0"},
                              {"type", nic->dhcp ? "ipv4_dhcp" : "ipv4"},
                              {"network_id", "cloudtime-validation"}};
    if (nic->dhcp) {
        doc["networks"].push_back(network);
        return doc;
    }
    network["ip_address"] = nic->address;
    network["netmask"] = netmask(nic->prefix_length);
    network["routes"] = nlohmann::json::array();
    if (!nic->gateway.empty()) {
        network["routes"].push_back(
            {{"network", "0.0.0.0"}, {"netmask", "0.0.0.0"}, {"gateway", nic->gateway}});
    }
    doc["networks"].push_back(network);
    return doc;
}
}  // namespace

std::map<std::string, std::string> config_drive_files(const ConfigDriveInstance& instance,
                                                      const Vendordata& vendordata) {
    const std::string dir = "openstack/latest/";
    nlohmann::json meta = {{"uuid", instance.uuid},         {"name", instance.hostname},
                           {"hostname", instance.hostname}, {"project_id", instance.project_id},
                           {"availability_zone", "nova"},   {"launch_index", 0},
                           {"meta", instance.metadata}};
    if (instance.public_key) {
        // As Nova writes a keypair (its name is the tenant's; cloud-init reads public_keys).
        meta["public_keys"] = {{"default", *instance.public_key}};
        meta["keys"] = {{{"name", "default"}, {"type", "ssh"}, {"data", *instance.public_key}}};
    }
    const std::string document = vendordata_document(vendordata).dump(2) + "\n";
    std::map<std::string, std::string> files = {
        {dir + "meta_data.json", meta.dump(2) + "\n"},
        {dir + "vendor_data.json", document},
        {dir + "vendor_data2.json", document},
        {dir + "network_data.json", network_data(instance.network).dump(2) + "\n"},
    };
    if (instance.user_data) {
        files[dir + "user_data"] = *instance.user_data;
    }
    return files;
}

Expected<std::pair<std::string, int>> parse_ipv4_cidr(std::string_view text) {
    const auto slash = text.find('/');
    const std::string address(text.substr(0, slash));
    in_addr parsed{};
    if (::inet_pton(AF_INET, address.c_str(), &parsed) != 1) {
        return Error{fmt::format("'{}' is not an IPv4 address/prefix", text)};
    }
    int length = 32;
    if (slash != std::string_view::npos) {
        const std::string digits(text.substr(slash + 1));
        if (digits.empty() || digits.size() > 2 ||
            !std::all_of(digits.begin(), digits.end(),
                         [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) ||
            std::stoi(digits) > 32) {
            return Error{fmt::format("'{}': the prefix length must be 0 to 32", text)};
        }
        length = std::stoi(digits);
    }
    return std::pair{address, length};
}

Status check_mac(std::string_view text) {
    bool valid = text.size() == 17;
    for (std::size_t i = 0; valid && i < text.size(); ++i) {
        valid = i % 3 == 2 ? text[i] == ':' : std::isxdigit(static_cast<unsigned char>(text[i]));
    }
    if (!valid) {
        return Error{fmt::format("'{}' is not a MAC address (aa:bb:cc:dd:ee:ff)", text)};
    }
    return Done{};
}

Expected<std::string> parse_public_key(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    if (text.find_first_of("\r\n") != std::string_view::npos) {
        return Error{"holds more than one line: one OpenSSH public key is expected"};
    }
    const auto space = text.find(' ');
    const auto type = text.substr(0, space);
    constexpr std::string_view kTypes[] = {"ssh-ed25519",
                                           "ssh-rsa",
                                           "ecdsa-sha2-nistp256",
                                           "ecdsa-sha2-nistp384",
                                           "ecdsa-sha2-nistp521",
                                           "sk-ssh-ed25519@openssh.com",
                                           "sk-ecdsa-sha2-nistp256@openssh.com"};
    if (std::find(std::begin(kTypes), std::end(kTypes), type) == std::end(kTypes)) {
        return Error{
            fmt::format("'{}' is not an OpenSSH public key type (ssh-ed25519, ssh-rsa, "
                        "ecdsa-sha2-*): is this the public key (.pub)?",
                        type.substr(0, 40))};
    }
    const auto blob = space == std::string_view::npos
                          ? std::string_view{}
                          : text.substr(space + 1, text.find(' ', space + 1) - space - 1);
    const bool base64 = !blob.empty() && std::all_of(blob.begin(), blob.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '/' || c == '=';
    });
    if (!base64) {
        return Error{"the key after its type is missing or not base64"};
    }
    return std::string(text);
}

}  // namespace cloudtime::cloud
