// SPDX-License-Identifier: Apache-2.0
#include "tenant/tenant_messages.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

namespace cloudtime::server {

namespace {

constexpr std::string_view kOptionsMessage = "options\t";
// As [server] receive_buffer allows it.
constexpr std::int64_t kMaxReceiveBuffer = std::int64_t{1} << 30U;

nlohmann::json address_list(const std::vector<sys::SocketAddress>& addresses) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& a : addresses) {
        out.push_back(a.to_string());
    }
    return out;
}

Expected<std::vector<sys::SocketAddress>> parse_address_list(const nlohmann::json& list) {
    if (!list.is_array()) {
        return Error{"an address list that is not a list"};
    }
    std::vector<sys::SocketAddress> out;
    for (const auto& item : list) {
        if (!item.is_string()) {
            return Error{"an address that is not a string"};
        }
        auto parsed = sys::parse_socket_address(item.get<std::string>());
        if (!parsed) {
            return parsed.failure();
        }
        out.push_back(*parsed);
    }
    return out;
}

// An integer within [low, high] (high >= 0): nlohmann's get<> would cut 70000 to a port of 4464.
Expected<std::int64_t> integer_in(const nlohmann::json& value, const char* name, std::int64_t low,
                                  std::int64_t high) {
    if (value.is_number_unsigned()) {
        const auto n = value.get<std::uint64_t>();
        if (n <= static_cast<std::uint64_t>(high) && static_cast<std::int64_t>(n) >= low) {
            return static_cast<std::int64_t>(n);
        }
    } else if (value.is_number_integer()) {
        const auto n = value.get<std::int64_t>();
        if (n >= low && n <= high) {
            return n;
        }
    }
    return Error{std::string("options whose ") + name + " is not an integer from " +
                 std::to_string(low) + " to " + std::to_string(high)};
}

}  // namespace

std::string options_message(const TenantNetworkOptions& o) {
    const nlohmann::json j{
        {"netns_dir", o.netns_dir},
        {"patterns", o.patterns},
        {"addresses", address_list(o.addresses)},
        {"managed", address_list(o.managed)},
        {"router_patterns", o.router_patterns},
        {"router",
         {{"destinations", address_list(o.router.destinations)},
          {"interfaces", o.router.interfaces},
          {"local_port", o.router.local_port}}},
        {"receive_buffer", o.receive_buffer},
        {"nts_ke_port", o.nts_ke_port},
    };
    return std::string(kOptionsMessage) + j.dump();
}

Expected<TenantNetworkOptions> parse_options_message(std::string_view text) {
    if (text.substr(0, kOptionsMessage.size()) != kOptionsMessage) {
        return Error{"not an options message"};
    }
    const auto j = nlohmann::json::parse(text.substr(kOptionsMessage.size()), nullptr, false);
    if (!j.is_object()) {
        return Error{"options that are not a JSON object"};
    }
    try {
        TenantNetworkOptions o;
        o.netns_dir = j.at("netns_dir").get<std::string>();
        o.patterns = j.at("patterns").get<std::vector<std::string>>();
        o.router_patterns = j.at("router_patterns").get<std::vector<std::string>>();
        const auto& router = j.at("router");
        o.router.interfaces = router.at("interfaces").get<std::string>();
        const auto local_port = integer_in(router.at("local_port"), "router local_port", 1, 65535);
        const auto buffer =
            integer_in(j.at("receive_buffer"), "receive_buffer", 0, kMaxReceiveBuffer);
        const auto ke_port = integer_in(j.at("nts_ke_port"), "nts_ke_port", 0, 65535);
        for (const auto* number : {&local_port, &buffer, &ke_port}) {
            if (!*number) {
                return number->failure();
            }
        }
        o.router.local_port = static_cast<std::uint16_t>(*local_port);
        o.receive_buffer = static_cast<int>(*buffer);
        o.nts_ke_port = static_cast<std::uint16_t>(*ke_port);
        auto addresses = parse_address_list(j.at("addresses"));
        auto managed = parse_address_list(j.at("managed"));
        auto destinations = parse_address_list(router.at("destinations"));
        if (!addresses || !managed || !destinations) {
            return Error{"options with a bad address"};
        }
        o.addresses = std::move(addresses).value();
        o.managed = std::move(managed).value();
        o.router.destinations = std::move(destinations).value();
        return o;
    } catch (const nlohmann::json::exception& e) {
        return Error{std::string("options with a missing or mistyped field: ") + e.what()};
    }
}

bool carries_fd(HelperMessage::Kind kind) {
    return kind == HelperMessage::Kind::attached || kind == HelperMessage::Kind::attached_ke;
}

std::string helper_message_text(const HelperMessage& message) {
    std::string text(1, static_cast<char>(message.kind));
    text += '\t';
    text += message.ns;
    if (message.kind != HelperMessage::Kind::released) {
        text += '\t';
        text += message.label;
    }
    return text;
}

std::optional<HelperMessage> parse_helper_message(std::string_view text, bool with_fd) {
    if (text.size() < 2 || text[1] != '\t') {
        return std::nullopt;
    }
    HelperMessage message;
    switch (text[0]) {
        case 'A':
        case 'K':
        case 'R':
        case 'C':
        case 'W':
            message.kind = static_cast<HelperMessage::Kind>(text[0]);
            break;
        default:
            return std::nullopt;
    }
    if (carries_fd(message.kind) != with_fd) {
        return std::nullopt;
    }
    const std::string_view rest = text.substr(2);
    if (message.kind == HelperMessage::Kind::released) {
        message.ns = rest;
        return message;
    }
    const auto tab = rest.find('\t');
    if (tab == std::string_view::npos) {
        return std::nullopt;
    }
    message.ns = rest.substr(0, tab);
    message.label = rest.substr(tab + 1);
    return message;
}

}  // namespace cloudtime::server
