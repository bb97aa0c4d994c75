// SPDX-License-Identifier: Apache-2.0
// chrony's command protocol (cmdmon, protocol version 6), the requests chronyc's `tracking` and
// `sources` send on chronyd's command socket and the decoding of their replies (layouts from
// chrony's candm.h). Pure: the socket is in sys/.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "proto/timestamp.hpp"
#include "util/expected.hpp"

namespace cloudtime::proto {

// A tracking reply is 104 octets; the request is padded to the same length, because chronyd
// answers no request shorter than its reply (no amplification).
inline constexpr std::size_t kChronyTrackingLength = 104;

enum class ChronyLeap : std::uint8_t { normal = 0, insert = 1, remove = 2, unsynchronized = 3 };

enum class ChronyAddressFamily : std::uint8_t { unspecified = 0, inet4 = 1, inet6 = 2, id = 3 };

struct ChronyTracking {
    std::uint32_t ref_id = 0;
    ChronyAddressFamily family = ChronyAddressFamily::unspecified;
    std::array<std::uint8_t, 16> address{};  // IPv4 in the first four octets
    std::uint16_t stratum = 0;
    ChronyLeap leap = ChronyLeap::unsynchronized;
    UnixTime ref_time;
    double current_correction_s = 0.0;  // system clock minus true time being slewed away
    double last_offset_s = 0.0;
    double rms_offset_s = 0.0;
    double frequency_ppm = 0.0;
    double skew_ppm = 0.0;
    double root_delay_s = 0.0;
    double root_dispersion_s = 0.0;  // as of ref_time
    double last_update_interval_s = 0.0;
};

std::array<std::uint8_t, kChronyTrackingLength> make_chrony_tracking_request(
    std::uint32_t sequence);

// Decodes a reply to the request with `sequence`; an error says what was wrong with it
// (chrony's status code, a version mismatch, a short or foreign reply).
Expected<ChronyTracking> parse_chrony_tracking_reply(std::span<const std::uint8_t> reply,
                                                     std::uint32_t sequence);

// `sources`: how many there are, then each by its index.
enum class ChronySourceState : std::uint8_t {
    selected = 0,
    nonselectable = 1,
    falseticker = 2,
    jittery = 3,
    unselected = 4,
    selectable = 5,
};
enum class ChronySourceMode : std::uint8_t { client = 0, peer = 1, reference_clock = 2 };

struct ChronySource {
    ChronyAddressFamily family = ChronyAddressFamily::unspecified;
    std::array<std::uint8_t, 16> address{};  // IPv4 first; for a reference clock, its refid
    std::int16_t poll = 0;
    std::uint16_t stratum = 0;
    ChronySourceState state = ChronySourceState::nonselectable;
    ChronySourceMode mode = ChronySourceMode::client;
    std::uint16_t reachability = 0;  // the last 8 polls, a bit each
    double latest_offset_s = 0.0;
    double latest_error_s = 0.0;
};

std::array<std::uint8_t, kChronyTrackingLength> make_chrony_n_sources_request(
    std::uint32_t sequence);
Expected<std::uint32_t> parse_chrony_n_sources_reply(std::span<const std::uint8_t> reply,
                                                     std::uint32_t sequence);
std::array<std::uint8_t, kChronyTrackingLength> make_chrony_source_data_request(
    std::uint32_t sequence, std::int32_t index);
Expected<ChronySource> parse_chrony_source_data_reply(std::span<const std::uint8_t> reply,
                                                      std::uint32_t sequence);

// `authdata`: how chronyd authenticates one NTP source (chrony 4.0 and later).
enum class ChronyAuthMode : std::uint8_t { none = 0, symmetric = 1, nts = 2 };
struct ChronyAuthData {
    ChronyAuthMode mode = ChronyAuthMode::none;
    std::uint16_t key_type = 0;     // NTS: the AEAD algorithm (15: AES-SIV-CMAC-256)
    std::uint16_t key_length = 0;   // bits
    std::uint16_t ke_attempts = 0;  // NTS-KE attempts since the last success
    std::uint32_t last_ke_ago = 0;  // seconds since the last key establishment
    std::uint16_t cookies = 0;
    std::uint16_t cookie_length = 0;
    std::uint16_t naks = 0;
};

std::array<std::uint8_t, kChronyTrackingLength> make_chrony_auth_data_request(
    std::uint32_t sequence, ChronyAddressFamily family,
    const std::array<std::uint8_t, 16>& address);
Expected<ChronyAuthData> parse_chrony_auth_data_reply(std::span<const std::uint8_t> reply,
                                                      std::uint32_t sequence);

// chrony's 32-bit float: a 7-bit signed exponent and a 25-bit signed coefficient,
// value = coefficient * 2^(exponent - 25).
double decode_chrony_float(std::uint32_t raw);
std::uint32_t encode_chrony_float(double value);  // for tests and fakes

}  // namespace cloudtime::proto
