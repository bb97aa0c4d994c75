#include "proto/chrony_tracking.hpp"

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

std::array<std::uint8_t, kChronyTrackingLength> make_chrony_tracking_request(
    std::uint32_t sequence) {
    std::array<std::uint8_t, kChronyTrackingLength> request{};
    request[0] = kProtocolVersion;
    request[1] = kRequestType;
    store_u16(std::span(request).subspan(4), kRequestTracking);
    store_u32(std::span(request).subspan(8), sequence);
    return request;
}

Expected<ChronyTracking> parse_chrony_tracking_reply(std::span<const std::uint8_t> reply,
                                                     std::uint32_t sequence) {
    if (reply.size() < kData) {
        return Error{"chrony reply too short (" + std::to_string(reply.size()) + " octets)"};
    }
    if (reply[0] != kProtocolVersion) {
        return Error{"chrony speaks command protocol version " + std::to_string(reply[0]) +
                     ", not 6"};
    }
    if (reply[1] != kReplyType || load_u16(reply.subspan(4)) != kRequestTracking ||
        load_u32(reply.subspan(kSequenceOffset)) != sequence) {
        return Error{"not a reply to our tracking request"};
    }
    if (const std::uint16_t status = load_u16(reply.subspan(kStatusOffset)); status != 0) {
        return Error{std::string("chrony refused the tracking request: ") + status_text(status) +
                     " (status " + std::to_string(status) + ")"};
    }
    if (load_u16(reply.subspan(6)) != kReplyTracking || reply.size() < kChronyTrackingLength) {
        return Error{"chrony's tracking reply is malformed (" + std::to_string(reply.size()) +
                     " octets)"};
    }
    ChronyTracking t;
    t.ref_id = load_u32(reply.subspan(kData));
    std::copy_n(reply.begin() + kData + 4, 16, t.address.begin());
    const std::uint16_t family = load_u16(reply.subspan(kData + 20));
    t.family =
        family <= 3 ? static_cast<ChronyAddressFamily>(family) : ChronyAddressFamily::unspecified;
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
