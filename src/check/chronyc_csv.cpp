// SPDX-License-Identifier: Apache-2.0
#include "check/chronyc_csv.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "net/socket_address.hpp"
#include "util/strings.hpp"

namespace cloudtime::check {

namespace {
std::vector<std::string> fields_of(std::string_view line) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        const auto comma = line.find(',', start);
        out.emplace_back(line.substr(start, comma - start));
        if (comma == std::string_view::npos) {
            return out;
        }
        start = comma + 1;
    }
}

std::vector<std::string_view> lines_of(std::string_view text) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
        const auto end = text.find('\n');
        auto line = text.substr(0, end);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (!line.empty()) {
            out.push_back(line);
        }
        if (end == std::string_view::npos) {
            break;
        }
        text.remove_prefix(end + 1);
    }
    return out;
}

Expected<double> number(const std::string& field, const char* what) {
    char* end = nullptr;
    const double value = std::strtod(field.c_str(), &end);
    if (field.empty() || end != field.c_str() + field.size()) {
        return Error{std::string(what) + " '" + field + "' is not a number"};
    }
    return value;
}

template <typename Integer>
Expected<Integer> integer(const std::string& field, const char* what, int base = 10) {
    Integer value{};
    const auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), value, base);
    if (field.empty() || ec != std::errc{} || ptr != field.data() + field.size()) {
        return Error{std::string(what) + " '" + field + "' is not an integer"};
    }
    return value;
}

// An address as chrony's structures hold it (IPv4 in the first four octets); a name that is
// no address (a reference clock) leaves it unspecified.
void set_address(const std::string& text, proto::ChronyAddressFamily& family,
                 std::array<std::uint8_t, 16>& address) {
    const auto parsed = sys::parse_cidr(text);
    if (!parsed || text.find('/') != std::string::npos) {
        return;
    }
    // IPv4 comes back mapped (::ffff:a.b.c.d); a real IPv6 address is never typed so in chronyc.
    const auto& o = parsed->octets;
    const bool v4 = std::all_of(o.begin(), o.begin() + 10, [](auto b) { return b == 0; }) &&
                    o[10] == 0xFF && o[11] == 0xFF;
    if (v4) {
        family = proto::ChronyAddressFamily::inet4;
        std::copy(parsed->octets.begin() + 12, parsed->octets.end(), address.begin());
    } else {
        family = proto::ChronyAddressFamily::inet6;
        address = parsed->octets;
    }
}

Expected<proto::ChronySourceState> source_state(const std::string& field) {
    if (field == "*") {
        return proto::ChronySourceState::selected;
    }
    if (field == "+") {
        return proto::ChronySourceState::selectable;
    }
    if (field == "-") {
        return proto::ChronySourceState::unselected;
    }
    if (field == "?") {
        return proto::ChronySourceState::nonselectable;
    }
    if (field == "x") {
        return proto::ChronySourceState::falseticker;
    }
    if (field == "~") {
        return proto::ChronySourceState::jittery;
    }
    return Error{"source state '" + field + "' is not chronyc's"};
}
}  // namespace

Expected<proto::ChronyTracking> parse_chronyc_tracking(std::string_view csv) {
    const auto lines = lines_of(csv);
    if (lines.size() != 1) {
        return Error{"chronyc tracking: one line expected, got " + std::to_string(lines.size())};
    }
    const auto f = fields_of(lines.front());
    if (f.size() != 14) {
        return Error{"chronyc tracking: 14 fields expected, got " + std::to_string(f.size())};
    }
    proto::ChronyTracking t;
    auto ref_id = integer<std::uint32_t>(f[0], "reference ID", 16);
    auto stratum = integer<std::uint16_t>(f[2], "stratum");
    auto ref_time = number(f[3], "reference time");
    if (!ref_id || !stratum || !ref_time) {
        return Error{"chronyc tracking: " + (!ref_id    ? ref_id.error()
                                             : !stratum ? stratum.error()
                                                        : ref_time.error())};
    }
    t.ref_id = *ref_id;
    set_address(f[1], t.family, t.address);
    t.stratum = *stratum;
    t.ref_time = proto::UnixTime::from_seconds(*ref_time);
    double* const values[] = {&t.current_correction_s,
                              &t.last_offset_s,
                              &t.rms_offset_s,
                              &t.frequency_ppm,
                              nullptr,
                              &t.skew_ppm,
                              &t.root_delay_s,
                              &t.root_dispersion_s,
                              &t.last_update_interval_s};
    for (std::size_t i = 0; i < std::size(values); ++i) {
        auto value = number(f[4 + i], "tracking field");
        if (!value) {
            return Error{"chronyc tracking: " + value.error()};
        }
        if (values[i] != nullptr) {
            *values[i] = *value;
        }
    }
    const std::string& leap = f[13];
    if (leap == "Normal") {
        t.leap = proto::ChronyLeap::normal;
    } else if (leap == "Insert second") {
        t.leap = proto::ChronyLeap::insert;
    } else if (leap == "Delete second") {
        t.leap = proto::ChronyLeap::remove;
    } else if (leap == "Not synchronised") {
        t.leap = proto::ChronyLeap::unsynchronized;
    } else {
        return Error{"chronyc tracking: leap status '" + leap + "' is not chronyc's"};
    }
    return t;
}

Expected<std::vector<proto::ChronySource>> parse_chronyc_sources(std::string_view csv) {
    std::vector<proto::ChronySource> out;
    for (const auto line : lines_of(csv)) {
        const auto f = fields_of(line);
        if (f.size() != 10) {
            return Error{"chronyc sources: 10 fields expected, got " + std::to_string(f.size())};
        }
        proto::ChronySource s;
        if (f[0] == "^") {
            s.mode = proto::ChronySourceMode::client;
        } else if (f[0] == "=") {
            s.mode = proto::ChronySourceMode::peer;
        } else if (f[0] == "#") {
            s.mode = proto::ChronySourceMode::reference_clock;
        } else {
            return Error{"chronyc sources: mode '" + f[0] + "' is not chronyc's"};
        }
        auto state = source_state(f[1]);
        auto stratum = integer<std::uint16_t>(f[3], "stratum");
        auto poll = integer<std::int16_t>(f[4], "poll");
        auto reach = integer<std::uint16_t>(f[5], "reach", 8);
        auto offset = number(f[7], "offset");
        auto error = number(f[9], "error");
        for (const std::string& problem :
             {state ? "" : state.error(), stratum ? "" : stratum.error(), poll ? "" : poll.error(),
              reach ? "" : reach.error(), offset ? "" : offset.error(),
              error ? "" : error.error()}) {
            if (!problem.empty()) {
                return Error{"chronyc sources: " + problem};
            }
        }
        s.state = *state;
        s.stratum = *stratum;
        s.poll = *poll;
        s.reachability = *reach;
        s.latest_offset_s = *offset;
        s.latest_error_s = *error;
        if (s.mode == proto::ChronySourceMode::reference_clock) {
            std::copy_n(f[2].begin(), std::min<std::size_t>(f[2].size(), 4), s.address.begin());
        } else {
            set_address(f[2], s.family, s.address);
        }
        out.push_back(s);
    }
    return out;
}

Expected<std::vector<std::pair<std::string, proto::ChronyAuthData>>> parse_chronyc_authdata(
    std::string_view csv) {
    std::vector<std::pair<std::string, proto::ChronyAuthData>> out;
    for (const auto line : lines_of(csv)) {
        const auto f = fields_of(line);
        if (f.size() != 10) {
            return Error{"chronyc authdata: 10 fields expected, got " + std::to_string(f.size())};
        }
        proto::ChronyAuthData a;
        if (f[1] == "NTS") {
            a.mode = proto::ChronyAuthMode::nts;
        } else if (f[1] == "SK") {
            a.mode = proto::ChronyAuthMode::symmetric;
        } else if (f[1] == "-") {
            a.mode = proto::ChronyAuthMode::none;
        } else {
            return Error{"chronyc authdata: mode '" + f[1] + "' is not chronyc's"};
        }
        auto type = integer<std::uint16_t>(f[3], "type");
        auto length = integer<std::uint16_t>(f[4], "key length");
        auto last = integer<std::uint32_t>(f[5], "last");
        auto attempts = integer<std::uint16_t>(f[6], "attempts");
        auto naks = integer<std::uint16_t>(f[7], "NAKs");
        auto cookies = integer<std::uint16_t>(f[8], "cookies");
        auto cookie_length = integer<std::uint16_t>(f[9], "cookie length");
        if (!type || !length || !last || !attempts || !naks || !cookies || !cookie_length) {
            return Error{"chronyc authdata: a field is not a number: '" + std::string(line) + "'"};
        }
        a.key_type = *type;
        a.key_length = *length;
        a.last_ke_ago = *last;
        a.ke_attempts = *attempts;
        a.naks = *naks;
        a.cookies = *cookies;
        a.cookie_length = *cookie_length;
        out.emplace_back(f[0], a);
    }
    return out;
}

}  // namespace cloudtime::check
