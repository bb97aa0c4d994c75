// SPDX-License-Identifier: Apache-2.0
#include "proto/leap_seconds.hpp"

#include <openssl/evp.h>

#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <span>

#include "util/strings.hpp"

namespace cloudtime::proto {

namespace {
constexpr std::int64_t kNtpToUnixSeconds = 2'208'988'800;  // 1900-01-01 to 1970-01-01
constexpr std::int64_t kDay = 86'400;
constexpr std::int64_t kSecond = 1'000'000'000;
// Beyond any date the list can hold (NTP era 1 ends in 2172), and small enough for UnixTime.
constexpr std::uint64_t kMaxNtpSeconds = std::uint64_t{1} << 33U;
constexpr std::uint64_t kMaxTaiOffset = 1000;

UnixTime from_ntp_seconds(std::uint64_t ntp_seconds) {
    return UnixTime{(static_cast<std::int64_t>(ntp_seconds) - kNtpToUnixSeconds) * kSecond};
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) {
        s.remove_suffix(1);
    }
    return s;
}

// The next whitespace-separated field of `rest`, consumed.
std::string_view next_field(std::string_view& rest) {
    rest = trim(rest);
    std::size_t end = 0;
    while (end < rest.size() && std::isspace(static_cast<unsigned char>(rest[end])) == 0) {
        ++end;
    }
    const std::string_view field = rest.substr(0, end);
    rest.remove_prefix(end);
    return field;
}

std::optional<std::uint64_t> to_number(std::string_view field) {
    std::uint64_t value = 0;
    const auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
    if (ec != std::errc{} || ptr != field.data() + field.size() || field.empty()) {
        return std::nullopt;
    }
    return value;
}

void append_digits(std::string& out, std::string_view s) {
    for (const char c : s) {
        if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
            out += c;
        }
    }
}

std::string sha1_hex(const std::string& data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha1(), nullptr) != 1) {
        return {};
    }
    return to_hex(std::span<const std::uint8_t>(digest.data(), length));
}

Error at_line(int line, const std::string& what) {
    return Error{"line " + std::to_string(line) + ": " + what};
}
}  // namespace

Expected<LeapSchedule> parse_leap_seconds(std::string_view text) {
    LeapSchedule schedule;
    std::optional<std::uint64_t> updated;
    std::optional<std::uint64_t> expires;
    std::string hashed;  // the digits the file's SHA-1 covers
    std::string stated_hash;
    int line_number = 0;
    while (!text.empty()) {
        const std::size_t newline = text.find('\n');
        std::string_view line = text.substr(0, newline);
        text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
        ++line_number;
        if (line.rfind("#$", 0) == 0 || line.rfind("#@", 0) == 0) {
            std::string_view rest = line.substr(2);
            const auto value = to_number(next_field(rest));
            if (!value) {
                return at_line(line_number,
                               "a number must follow " + std::string(line.substr(0, 2)));
            }
            if (*value > kMaxNtpSeconds) {
                return at_line(line_number, "the time is out of range");
            }
            (line[1] == '$' ? updated : expires) = value;
            append_digits(hashed, line.substr(2));
            continue;
        }
        if (line.rfind("#h", 0) == 0) {
            std::string_view rest = line.substr(2);
            for (auto word = next_field(rest); !word.empty(); word = next_field(rest)) {
                // Words are written without their leading zeros by some publishers.
                stated_hash += std::string(8 - std::min<std::size_t>(word.size(), 8), '0');
                stated_hash += word;
            }
            continue;
        }
        if (line.empty() || line[0] == '#' || trim(line).empty()) {
            continue;
        }
        std::string_view data = line.substr(0, line.find('#'));
        append_digits(hashed, data);
        const auto when = to_number(next_field(data));
        const auto offset = to_number(next_field(data));
        if (!when || !offset || !trim(data).empty()) {
            return at_line(line_number, "expected 'NTP-SECONDS TAI-UTC [# comment]'");
        }
        if (*when > kMaxNtpSeconds || *offset > kMaxTaiOffset) {
            return at_line(line_number, "the time or the TAI-UTC offset is out of range");
        }
        const LeapEntry entry{from_ntp_seconds(*when), static_cast<int>(*offset)};
        if (!schedule.entries.empty()) {
            const LeapEntry& last = schedule.entries.back();
            if (entry.from.ns <= last.from.ns) {
                return at_line(line_number, "entries are not in increasing order");
            }
            if (entry.tai_offset != last.tai_offset + 1 &&
                entry.tai_offset != last.tai_offset - 1) {
                return at_line(line_number, "TAI-UTC must change by one second per entry");
            }
        }
        if ((entry.from.ns / kSecond) % kDay != 0) {
            return at_line(line_number, "a leap must fall on a UTC midnight");
        }
        schedule.entries.push_back(entry);
    }
    if (!expires) {
        return Error{"no expiry date (#@ line)"};
    }
    if (schedule.entries.empty()) {
        return Error{"no leap second entries"};
    }
    if (stated_hash.empty()) {
        return Error{"no hash (#h line): cannot tell whether the file is intact"};
    }
    if (sha1_hex(hashed) != stated_hash) {
        return Error{"the SHA-1 hash does not match the contents: the file is corrupt or edited"};
    }
    schedule.expires = from_ntp_seconds(*expires);
    schedule.updated = updated ? from_ntp_seconds(*updated) : UnixTime{};
    return schedule;
}

std::optional<LeapEvent> next_leap(const LeapSchedule& schedule, UnixTime now) {
    for (std::size_t i = 1; i < schedule.entries.size(); ++i) {
        const LeapEntry& entry = schedule.entries[i];
        if (entry.from.ns > now.ns) {
            return LeapEvent{entry.from, entry.tai_offset - schedule.entries[i - 1].tai_offset};
        }
    }
    return std::nullopt;
}

UnixTime end_of_utc_day(UnixTime now) {
    const std::int64_t seconds = now.ns >= 0 ? now.ns / kSecond : (now.ns - kSecond + 1) / kSecond;
    const std::int64_t day = seconds >= 0 ? seconds / kDay : (seconds - kDay + 1) / kDay;
    return UnixTime{(day + 1) * kDay * kSecond};
}

}  // namespace cloudtime::proto
