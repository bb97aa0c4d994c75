// SPDX-License-Identifier: Apache-2.0
// NTS Key Establishment messages (RFC 8915 section 4): the records a client sends over TLS
// and what the server answers, validated strictly. Pure: the TLS session, the cookies'
// encryption and the keys exported from TLS are the caller's.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cloudtime::proto {

enum class KeRecordType : std::uint16_t {
    end_of_message = 0,
    next_protocol = 1,
    error = 2,
    warning = 3,
    aead_algorithm = 4,
    new_cookie = 5,
    server = 6,
    port = 7,
};

inline constexpr std::uint16_t kKeCriticalBit = 0x8000;
inline constexpr std::uint16_t kNextProtocolNtpv4 = 0;
inline constexpr std::size_t kKeRecordHeaderLength = 4;
// A request is a few dozen octets; anything near this is an attack or a broken client.
inline constexpr std::size_t kMaxKeRequestLength = 1024;

enum class KeErrorCode : std::uint16_t {
    unrecognized_critical_record = 0,
    bad_request = 1,
    internal_server_error = 2,
};

struct KeRecord {
    bool critical = false;
    std::uint16_t type = 0;
    std::span<const std::uint8_t> body;
};

// What was wrong with a request, for counters and logs (the client gets only the code).
enum class KeRequestProblem : std::uint8_t {
    none,
    unrecognized_critical_record,
    too_long,               // no end of message within kMaxKeRequestLength octets
    data_after_end,         // octets after the End of Message record
    end_not_critical,       // or with a body
    next_protocol_missing,  // or repeated
    next_protocol_malformed,
    aead_missing,  // or repeated
    aead_malformed,
    server_only_record,  // Error, Warning or New Cookie records from a client
    server_or_port_malformed,
};
inline constexpr std::size_t kKeRequestProblemCount = 11;

const char* ke_request_problem_name(KeRequestProblem problem);

struct KeRequest {
    bool offers_ntpv4 = false;
    bool offers_aes_siv = false;  // AEAD_AES_SIV_CMAC_256
    std::string server;           // what the client asked for, if anything
    std::optional<std::uint16_t> port;
};

// The state of a request read so far: more octets needed, complete, or refused.
struct KeRequestRead {
    enum class Status : std::uint8_t { incomplete, complete, refused };
    Status status = Status::incomplete;
    KeRequest request;                                  // when complete
    KeRequestProblem problem = KeRequestProblem::none;  // when refused
    KeErrorCode error = KeErrorCode::bad_request;       // what to answer when refused
};

// The TLS exporter's label and context for the keys of NTPv4 with AES-SIV-CMAC-256 (RFC 8915
// section 5.1): next protocol, AEAD, then 0 for client-to-server or 1 for server-to-client.
inline constexpr std::string_view kNtsExporterLabel = "EXPORTER-network-time-security";
std::array<std::uint8_t, 5> nts_exporter_context(bool server_to_client);

// Reads a client's request from the octets received so far.
KeRequestRead read_ke_request(std::span<const std::uint8_t> received);

// Appends one record to `out`.
void append_ke_record(std::vector<std::uint8_t>& out, KeRecordType type, bool critical,
                      std::span<const std::uint8_t> body);

// The answer to a refused request: an Error record and End of Message.
std::vector<std::uint8_t> ke_error_response(KeErrorCode code);

// Whether the request and this server agree on NTPv4 with AES-SIV-CMAC-256: only then do
// cookies go in the response.
bool ke_agrees(const KeRequest& request);

// The answer to a complete request: the protocol and AEAD chosen (records left empty when
// the client offered none this server has, as RFC 8915 says), the cookies (only when both
// agree), the NTP server and port when they are not what the client would assume.
struct KeResponseParts {
    std::span<const std::vector<std::uint8_t>> cookies;
    std::string server;                 // empty: the address the client connected to
    std::optional<std::uint16_t> port;  // empty: 123
};
std::vector<std::uint8_t> ke_response(const KeRequest& request, const KeResponseParts& parts);

// The client's side, for `cloudtime query --nts` and the load generator.
std::vector<std::uint8_t> ke_client_request();

struct KeResponse {
    bool ntpv4 = false;
    bool aes_siv = false;
    std::optional<KeErrorCode> error;
    std::vector<std::vector<std::uint8_t>> cookies;
    std::string server;
    std::optional<std::uint16_t> port;
};
struct KeResponseRead {
    enum class Status : std::uint8_t { incomplete, complete, malformed };
    Status status = Status::incomplete;
    KeResponse response;
    std::string problem;  // when malformed
};
KeResponseRead read_ke_response(std::span<const std::uint8_t> received);

}  // namespace cloudtime::proto
