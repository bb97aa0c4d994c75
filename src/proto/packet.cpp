// SPDX-License-Identifier: Apache-2.0
#include "proto/packet.hpp"

namespace cloudtime::proto {

const char* leap_name(Leap leap) {
    switch (leap) {
        case Leap::none:
            return "normal";
        case Leap::insert_second:
            return "insert";
        case Leap::delete_second:
            return "delete";
        case Leap::unsynchronized:
            return "unsynchronized";
    }
    return "unknown";
}

std::uint16_t load_u16(std::span<const std::uint8_t> b) {
    return static_cast<std::uint16_t>((b[0] << 8U) | b[1]);
}

std::uint32_t load_u32(std::span<const std::uint8_t> b) {
    return (static_cast<std::uint32_t>(b[0]) << 24U) | (static_cast<std::uint32_t>(b[1]) << 16U) |
           (static_cast<std::uint32_t>(b[2]) << 8U) | static_cast<std::uint32_t>(b[3]);
}

std::uint64_t load_u64(std::span<const std::uint8_t> b) {
    return (static_cast<std::uint64_t>(load_u32(b.first(4))) << 32U) | load_u32(b.subspan(4, 4));
}

void store_u16(std::span<std::uint8_t> b, std::uint16_t v) {
    b[0] = static_cast<std::uint8_t>(v >> 8U);
    b[1] = static_cast<std::uint8_t>(v);
}

void store_u32(std::span<std::uint8_t> b, std::uint32_t v) {
    b[0] = static_cast<std::uint8_t>(v >> 24U);
    b[1] = static_cast<std::uint8_t>(v >> 16U);
    b[2] = static_cast<std::uint8_t>(v >> 8U);
    b[3] = static_cast<std::uint8_t>(v);
}

void store_u64(std::span<std::uint8_t> b, std::uint64_t v) {
    store_u32(b.first(4), static_cast<std::uint32_t>(v >> 32U));
    store_u32(b.subspan(4, 4), static_cast<std::uint32_t>(v));
}

std::optional<Header> decode_header(std::span<const std::uint8_t> d) {
    if (d.size() < kHeaderSize) {
        return std::nullopt;
    }
    Header h;
    h.leap = static_cast<Leap>(d[0] >> 6U);
    h.version = version_of(d[0]);
    h.mode = mode_of(d[0]);
    h.stratum = d[1];
    h.poll = static_cast<std::int8_t>(d[2]);
    h.precision = static_cast<std::int8_t>(d[3]);
    h.root_delay = NtpShort{load_u32(d.subspan(4, 4))};
    h.root_dispersion = NtpShort{load_u32(d.subspan(8, 4))};
    h.refid = load_u32(d.subspan(12, 4));
    h.reference = NtpTimestamp{load_u64(d.subspan(16, 8))};
    h.origin = NtpTimestamp{load_u64(d.subspan(kOriginOffset, 8))};
    h.receive = NtpTimestamp{load_u64(d.subspan(kReceiveOffset, 8))};
    h.transmit = NtpTimestamp{load_u64(d.subspan(kTransmitOffset, 8))};
    return h;
}

void encode_header(const Header& h, std::span<std::uint8_t, kHeaderSize> out) {
    out[0] = static_cast<std::uint8_t>((static_cast<unsigned>(h.leap) << 6U) |
                                       ((h.version & 0x7U) << 3U) | static_cast<unsigned>(h.mode));
    out[1] = h.stratum;
    out[2] = static_cast<std::uint8_t>(h.poll);
    out[3] = static_cast<std::uint8_t>(h.precision);
    store_u32(out.subspan(4, 4), h.root_delay.raw);
    store_u32(out.subspan(8, 4), h.root_dispersion.raw);
    store_u32(out.subspan(12, 4), h.refid);
    store_u64(out.subspan(16, 8), h.reference.raw);
    store_u64(out.subspan(kOriginOffset, 8), h.origin.raw);
    store_u64(out.subspan(kReceiveOffset, 8), h.receive.raw);
    store_u64(out.subspan(kTransmitOffset, 8), h.transmit.raw);
}

}  // namespace cloudtime::proto
