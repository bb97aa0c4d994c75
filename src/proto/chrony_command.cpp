// SPDX-License-Identifier: Apache-2.0
#include "proto/chrony_command.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "proto/packet.hpp"

namespace cloudtime::proto {

namespace {
constexpr std::uint8_t kProtocolVersion = 6;
constexpr std::uint8_t kRequestType = 1;
constexpr std::uint8_t kReplyType = 2;
constexpr std::uint16_t kRequestTracking = 33;
constexpr std::uint16_t kReplyTracking = 5;
constexpr std::uint16_t kRequestNSources = 14;
constexpr std::uint16_t kReplyNSources = 2;
constexpr std::uint16_t kRequestSourceData = 15;
constexpr std::uint16_t kReplySourceData = 3;
constexpr std::size_t kSourceDataLength = 48;
constexpr std::uint16_t kRequestAuthData = 67;
constexpr std::uint16_t kReplyAuthData = 20;
constexpr std::size_t kAuthDataLength = 24;
constexpr std::uint32_t kNoHighSeconds = 0x7FFF'FFFFU;  // chrony's marker for 32-bit seconds
constexpr int kCoefficientBits = 25;
constexpr int kExponentMin = -64;  // 7-bit signed exponent
constexpr int kExponentMax = 63;

// Offsets in the reply: a 28-octet header, then RPY_Tracking.
constexpr std::size_t kStatusOffset = 8;
constexpr std::size_t kSequenceOffset = 16;
constexpr std::size_t kData = 28;

const char* status_text(std::uint16_t status) {
    switch (status) {
        case 1:
            return "failed";
        case 2:
            return "unauthorised";
        case 3:
            return "invalid command";
        case 6:
            return "not enabled";
        case 18:
            return "bad packet version";
        case 19:
            return "bad packet length";
        default:
            return "error";
    }
}

double float_at(std::span<const std::uint8_t> reply, std::size_t offset) {
    return decode_chrony_float(load_u32(reply.subspan(offset)));
}
}  // namespace

double decode_chrony_float(std::uint32_t raw) {
    auto exponent = static_cast<int>(raw >> kCoefficientBits);
    if (exponent > kExponentMax) {
        exponent -= 1 << 7;
    }
    auto coefficient = static_cast<std::int32_t>(raw & ((1U << kCoefficientBits) - 1U));
    if (coefficient >= (1 << (kCoefficientBits - 1))) {
        coefficient -= 1 << kCoefficientBits;
    }
    return std::ldexp(static_cast<double>(coefficient), exponent - kCoefficientBits);
}

std::uint32_t encode_chrony_float(double value) {
    if (value == 0.0 || !std::isfinite(value)) {
        return 0;
    }
    int binary_exponent = 0;
    const double mantissa = std::frexp(value, &binary_exponent);  // 0.5 <= |m| < 1
    auto coefficient = static_cast<std::int64_t>(std::lround(std::ldexp(mantissa, 24)));
    int exponent = binary_exponent + 1;
    if (coefficient >= (std::int64_t{1} << 24) || coefficient < -(std::int64_t{1} << 24)) {
        coefficient /= 2;
        ++exponent;
    }
    if (exponent < kExponentMin) {
        return 0;  // below what the format holds: zero
    }
    exponent = std::min(exponent, kExponentMax);
    const auto exponent_bits = static_cast<std::uint32_t>(exponent) & 0x7FU;
    const auto coefficient_bits =
        static_cast<std::uint32_t>(coefficient) & ((1U << kCoefficientBits) - 1U);
    return (exponent_bits << kCoefficientBits) | coefficient_bits;
}

namespace {
// Every request is padded to the longest reply we ask for: chronyd answers no request shorter
// than its reply.
std::array<std::uint8_t, kChronyTrackingLength> make_request(std::uint16_t command,
                                                             std::uint32_t sequence) {
    std::array<std::uint8_t, kChronyTrackingLength> request{};
    request[0] = kProtocolVersion;
    request[1] = kRequestType;
    store_u16(std::span(request).subspan(4), command);
    store_u32(std::span(request).subspan(8), sequence);
    return request;
}

// The reply's header checked against the request; `name` says which in errors.
Status check_reply(std::span<const std::uint8_t> reply, std::uint32_t sequence,
                   std::uint16_t command, std::uint16_t reply_code, std::size_t data_length,
                   const std::string& name) {
    if (reply.size() < kData) {
        return Error{"chrony reply too short (" + std::to_string(reply.size()) + " octets)"};
    }
    if (reply[0] != kProtocolVersion) {
        return Error{"chrony speaks command protocol version " + std::to_string(reply[0]) +
                     ", not 6"};
    }
    if (reply[1] != kReplyType || load_u16(reply.subspan(4)) != command ||
        load_u32(reply.subspan(kSequenceOffset)) != sequence) {
        return Error{"not a reply to our " + name + " request"};
    }
    if (const std::uint16_t status = load_u16(reply.subspan(kStatusOffset)); status != 0) {
        return Error{"chrony refused the " + name + " request: " + status_text(status) +
                     " (status " + std::to_string(status) + ")"};
    }
    if (load_u16(reply.subspan(6)) != reply_code || reply.size() < kData + data_length) {
        return Error{"chrony's " + name + " reply is malformed (" + std::to_string(reply.size()) +
                     " octets)"};
    }
    return Done{};
}

ChronyAddressFamily family_at(std::span<const std::uint8_t> reply, std::size_t offset) {
    const std::uint16_t family = load_u16(reply.subspan(offset));
    return family <= 3 ? static_cast<ChronyAddressFamily>(family)
                       : ChronyAddressFamily::unspecified;
}
}  // namespace

std::array<std::uint8_t, kChronyTrackingLength> make_chrony_tracking_request(
    std::uint32_t sequence) {
    return make_request(kRequestTracking, sequence);
}

std::array<std::uint8_t, kChronyTrackingLength> make_chrony_n_sources_request(
    std::uint32_t sequence) {
    return make_request(kRequestNSources, sequence);
}

std::array<std::uint8_t, kChronyTrackingLength> make_chrony_source_data_request(
    std::uint32_t sequence, std::int32_t index) {
    auto request = make_request(kRequestSourceData, sequence);
    store_u32(std::span(request).subspan(20), static_cast<std::uint32_t>(index));
    return request;
}

Expected<std::uint32_t> parse_chrony_n_sources_reply(std::span<const std::uint8_t> reply,
                                                     std::uint32_t sequence) {
    if (auto ok = check_reply(reply, sequence, kRequestNSources, kReplyNSources, 4, "sources");
        !ok) {
        return ok.failure();
    }
    return load_u32(reply.subspan(kData));
}

Expected<ChronySource> parse_chrony_source_data_reply(std::span<const std::uint8_t> reply,
                                                      std::uint32_t sequence) {
    if (auto ok = check_reply(reply, sequence, kRequestSourceData, kReplySourceData,
                              kSourceDataLength, "source data");
        !ok) {
        return ok.failure();
    }
    ChronySource s;
    std::copy_n(reply.begin() + kData, 16, s.address.begin());
    s.family = family_at(reply, kData + 16);
    s.poll = static_cast<std::int16_t>(load_u16(reply.subspan(kData + 20)));
    s.stratum = load_u16(reply.subspan(kData + 22));
    const std::uint16_t state = load_u16(reply.subspan(kData + 24));
    s.state = state <= 5 ? static_cast<ChronySourceState>(state) : ChronySourceState::nonselectable;
    const std::uint16_t mode = load_u16(reply.subspan(kData + 26));
    s.mode = mode <= 2 ? static_cast<ChronySourceMode>(mode) : ChronySourceMode::client;
    s.reachability = load_u16(reply.subspan(kData + 30));
    s.latest_offset_s = float_at(reply, kData + 40);
    s.latest_error_s = float_at(reply, kData + 44);
    return s;
}

std::array<std::uint8_t, kChronyTrackingLength> make_chrony_auth_data_request(
    std::uint32_t sequence, ChronyAddressFamily family,
    const std::array<std::uint8_t, 16>& address) {
    auto request = make_request(kRequestAuthData, sequence);
    std::copy(address.begin(), address.end(), request.begin() + 20);
    store_u16(std::span(request).subspan(36), static_cast<std::uint16_t>(family));
    return request;
}

Expected<ChronyAuthData> parse_chrony_auth_data_reply(std::span<const std::uint8_t> reply,
                                                      std::uint32_t sequence) {
    if (auto ok = check_reply(reply, sequence, kRequestAuthData, kReplyAuthData, kAuthDataLength,
                              "authdata");
        !ok) {
        return ok.failure();
    }
    ChronyAuthData a;
    const std::uint16_t mode = load_u16(reply.subspan(kData));
    a.mode = mode <= 2 ? static_cast<ChronyAuthMode>(mode) : ChronyAuthMode::none;
    a.key_type = load_u16(reply.subspan(kData + 2));
    a.key_length = load_u16(reply.subspan(kData + 8));
    a.ke_attempts = load_u16(reply.subspan(kData + 10));
    a.last_ke_ago = load_u32(reply.subspan(kData + 12));
    a.cookies = load_u16(reply.subspan(kData + 16));
    a.cookie_length = load_u16(reply.subspan(kData + 18));
    a.naks = load_u16(reply.subspan(kData + 20));
    return a;
}

Expected<ChronyTracking> parse_chrony_tracking_reply(std::span<const std::uint8_t> reply,
                                                     std::uint32_t sequence) {
    if (auto ok = check_reply(reply, sequence, kRequestTracking, kReplyTracking,
                              kChronyTrackingLength - kData, "tracking");
        !ok) {
        return ok.failure();
    }
    ChronyTracking t;
    t.ref_id = load_u32(reply.subspan(kData));
    std::copy_n(reply.begin() + kData + 4, 16, t.address.begin());
    t.family = family_at(reply, kData + 20);
    t.stratum = load_u16(reply.subspan(kData + 24));
    const std::uint16_t leap = load_u16(reply.subspan(kData + 26));
    t.leap = leap <= 3 ? static_cast<ChronyLeap>(leap) : ChronyLeap::unsynchronized;
    std::uint32_t high = load_u32(reply.subspan(kData + 28));
    if (high == kNoHighSeconds) {
        high = 0;
    }
    const std::uint64_t seconds =
        (std::uint64_t{high} << 32U) | load_u32(reply.subspan(kData + 32));
    const std::uint32_t nanoseconds = load_u32(reply.subspan(kData + 36));
    if (nanoseconds >= 1'000'000'000U || seconds > (std::uint64_t{1} << 33U)) {
        return Error{"chrony's reference time is out of range"};
    }
    t.ref_time = UnixTime{static_cast<std::int64_t>(seconds) * 1'000'000'000 + nanoseconds};
    t.current_correction_s = float_at(reply, kData + 40);
    t.last_offset_s = float_at(reply, kData + 44);
    t.rms_offset_s = float_at(reply, kData + 48);
    t.frequency_ppm = float_at(reply, kData + 52);
    t.skew_ppm = float_at(reply, kData + 60);
    t.root_delay_s = float_at(reply, kData + 64);
    t.root_dispersion_s = float_at(reply, kData + 68);
    t.last_update_interval_s = float_at(reply, kData + 72);
    return t;
}

}  // namespace cloudtime::proto
