// SPDX-License-Identifier: Apache-2.0
#include "check/chrony_view.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "net/socket_address.hpp"

namespace cloudtime::check {

std::string chrony_address_text(proto::ChronyAddressFamily family,
                                const std::array<std::uint8_t, 16>& address) {
    if (family == proto::ChronyAddressFamily::inet4) {
        return fmt::format("{}.{}.{}.{}", address[0], address[1], address[2], address[3]);
    }
    if (family == proto::ChronyAddressFamily::inet6) {
        return sys::SocketAddress::from_ipv6_octets(address, 0).host_string();
    }
    return {};
}

std::string chrony_refid_text(std::uint32_t refid) {
    std::string text;
    for (int shift = 24; shift >= 0; shift -= 8) {
        const auto c = static_cast<char>((refid >> static_cast<unsigned>(shift)) & 0xFFU);
        if (c >= 0x20 && c < 0x7F) {
            text.push_back(c);
        }
    }
    return text;
}

namespace {
// A reference clock's refid, which chrony sends in the address field.
std::uint32_t refclock_id(const proto::ChronySource& s) {
    return (std::uint32_t{s.address[0]} << 24U) | (std::uint32_t{s.address[1]} << 16U) |
           (std::uint32_t{s.address[2]} << 8U) | s.address[3];
}

// By chrony's state value (RPY_SD_ST_*): its word, and the symbol chronyc shows.
struct StateNames {
    const char* name;
    char symbol;
};
constexpr std::array<StateNames, 6> kStateNames{{{"selected", '*'},
                                                 {"nonselectable", '?'},
                                                 {"falseticker", 'x'},
                                                 {"jittery", '~'},
                                                 {"unselected", '-'},
                                                 {"selectable", '+'}}};

const StateNames* names_of(proto::ChronySourceState state) {
    const auto i = static_cast<std::size_t>(state);
    return i < kStateNames.size() ? &kStateNames.at(i) : nullptr;
}
}  // namespace

std::string chrony_source_name(const proto::ChronySource& source) {
    const std::string address = chrony_address_text(source.family, source.address);
    return address.empty() ? chrony_refid_text(refclock_id(source)) : address;
}

const char* source_state_name(proto::ChronySourceState state) {
    const auto* names = names_of(state);
    return names != nullptr ? names->name : "unknown";
}

char source_state_symbol(proto::ChronySourceState state) {
    const auto* names = names_of(state);
    return names != nullptr ? names->symbol : ' ';
}

std::string reachability_text(std::uint16_t reachability) {
    return fmt::format("{:o}", reachability);
}

std::optional<proto::ChronySource> reference_source(
    const proto::ChronyTracking& tracking, const std::vector<proto::ChronySource>& sources) {
    const std::string reference = chrony_address_text(tracking.family, tracking.address);
    const auto it = std::find_if(sources.begin(), sources.end(), [&](const auto& s) {
        if (reference.empty()) {
            return s.mode == proto::ChronySourceMode::reference_clock &&
                   refclock_id(s) == tracking.ref_id;
        }
        return chrony_address_text(s.family, s.address) == reference;
    });
    if (it == sources.end()) {
        return std::nullopt;
    }
    return *it;
}

}  // namespace cloudtime::check
