// SPDX-License-Identifier: Apache-2.0
#include "proto/nts_ke.hpp"

#include <algorithm>
#include <array>

#include "proto/aes_siv.hpp"
#include "proto/packet.hpp"

namespace cloudtime::proto {

namespace {

constexpr std::size_t kMaxServerNameLength = 255;
constexpr std::uint16_t kTypeMask = 0x7FFF;

// One record from the front of `rest`; nullopt when its header or body is not all there.
std::optional<KeRecord> next_record(std::span<const std::uint8_t>& rest) {
    if (rest.size() < kKeRecordHeaderLength) {
        return std::nullopt;
    }
    const std::uint16_t first = load_u16(rest);
    const std::size_t length = load_u16(rest.subspan(2));
    if (rest.size() < kKeRecordHeaderLength + length) {
        return std::nullopt;
    }
    KeRecord record{(first & kKeCriticalBit) != 0, static_cast<std::uint16_t>(first & kTypeMask),
                    rest.subspan(kKeRecordHeaderLength, length)};
    rest = rest.subspan(kKeRecordHeaderLength + length);
    return record;
}

bool is_list_of_u16(std::span<const std::uint8_t> body) {
    return !body.empty() && body.size() % 2 == 0;
}

bool lists(std::span<const std::uint8_t> body, std::uint16_t value) {
    for (std::size_t i = 0; i + 1 < body.size(); i += 2) {
        if (load_u16(body.subspan(i)) == value) {
            return true;
        }
    }
    return false;
}

bool is_server_name(std::span<const std::uint8_t> body) {
    return !body.empty() && body.size() <= kMaxServerNameLength &&
           std::all_of(body.begin(), body.end(),
                       [](std::uint8_t c) { return c > 0x20 && c < 0x7F; });
}

KeRequestRead refuse(KeRequestProblem problem, KeErrorCode error = KeErrorCode::bad_request) {
    return {KeRequestRead::Status::refused, {}, problem, error};
}

void append_u16_record(std::vector<std::uint8_t>& out, KeRecordType type, bool critical,
                       std::optional<std::uint16_t> value) {
    std::array<std::uint8_t, 2> body{};
    if (value) {
        store_u16(body, *value);
    }
    append_ke_record(out, type, critical,
                     value ? std::span<const std::uint8_t>(body) : std::span<const std::uint8_t>());
}

}  // namespace

std::array<std::uint8_t, 5> nts_exporter_context(bool server_to_client) {
    std::array<std::uint8_t, 5> context{};
    store_u16(context, kNextProtocolNtpv4);
    store_u16(std::span(context).subspan(2), kAeadAesSivCmac256);
    context[4] = server_to_client ? 1 : 0;
    return context;
}

const char* ke_request_problem_name(KeRequestProblem problem) {
    switch (problem) {
        case KeRequestProblem::none:
            return "none";
        case KeRequestProblem::unrecognized_critical_record:
            return "unrecognized critical record";
        case KeRequestProblem::too_long:
            return "request too long";
        case KeRequestProblem::data_after_end:
            return "data after end of message";
        case KeRequestProblem::end_not_critical:
            return "malformed end of message";
        case KeRequestProblem::next_protocol_missing:
            return "no single next protocol record";
        case KeRequestProblem::next_protocol_malformed:
            return "malformed next protocol record";
        case KeRequestProblem::aead_missing:
            return "no single AEAD record";
        case KeRequestProblem::aead_malformed:
            return "malformed AEAD record";
        case KeRequestProblem::server_only_record:
            return "a record only servers send";
        case KeRequestProblem::server_or_port_malformed:
            return "malformed server or port record";
    }
    return "unknown";
}

KeRequestRead read_ke_request(std::span<const std::uint8_t> received) {
    KeRequest request;
    int next_protocols = 0;
    int aeads = 0;
    bool server_seen = false;
    std::span<const std::uint8_t> rest = received;
    for (;;) {
        // A record that cannot end within the limit is refused as soon as its header says so.
        const std::size_t offset = received.size() - rest.size();
        const std::size_t declared =
            rest.size() >= kKeRecordHeaderLength ? load_u16(rest.subspan(2)) : 0;
        if (offset + kKeRecordHeaderLength + declared > kMaxKeRequestLength) {
            return refuse(KeRequestProblem::too_long);
        }
        const auto record = next_record(rest);
        if (!record) {
            return {};  // incomplete: wait for more
        }
        switch (static_cast<KeRecordType>(record->type)) {
            case KeRecordType::end_of_message:
                if (!record->critical || !record->body.empty()) {
                    return refuse(KeRequestProblem::end_not_critical);
                }
                if (!rest.empty()) {
                    return refuse(KeRequestProblem::data_after_end);
                }
                if (next_protocols != 1) {
                    return refuse(KeRequestProblem::next_protocol_missing);
                }
                if (aeads != 1) {
                    return refuse(KeRequestProblem::aead_missing);
                }
                return {KeRequestRead::Status::complete, request, KeRequestProblem::none,
                        KeErrorCode::bad_request};
            case KeRecordType::next_protocol:
                if (!record->critical || !is_list_of_u16(record->body)) {
                    return refuse(KeRequestProblem::next_protocol_malformed);
                }
                if (++next_protocols > 1) {
                    return refuse(KeRequestProblem::next_protocol_missing);
                }
                request.offers_ntpv4 = lists(record->body, kNextProtocolNtpv4);
                break;
            case KeRecordType::aead_algorithm:
                if (!is_list_of_u16(record->body)) {
                    return refuse(KeRequestProblem::aead_malformed);
                }
                if (++aeads > 1) {
                    return refuse(KeRequestProblem::aead_missing);
                }
                request.offers_aes_siv = lists(record->body, kAeadAesSivCmac256);
                break;
            case KeRecordType::error:
            case KeRecordType::warning:
            case KeRecordType::new_cookie:
                return refuse(KeRequestProblem::server_only_record);
            case KeRecordType::server:
                if (server_seen || !is_server_name(record->body)) {
                    return refuse(KeRequestProblem::server_or_port_malformed);
                }
                server_seen = true;
                request.server.assign(record->body.begin(), record->body.end());
                break;
            case KeRecordType::port:
                if (request.port || record->body.size() != 2) {
                    return refuse(KeRequestProblem::server_or_port_malformed);
                }
                request.port = load_u16(record->body);
                break;
            default:
                if (record->critical) {
                    return refuse(KeRequestProblem::unrecognized_critical_record,
                                  KeErrorCode::unrecognized_critical_record);
                }
                break;  // a non-critical record we do not know: ignored, as RFC 8915 says
        }
    }
}

void append_ke_record(std::vector<std::uint8_t>& out, KeRecordType type, bool critical,
                      std::span<const std::uint8_t> body) {
    std::array<std::uint8_t, kKeRecordHeaderLength> header{};
    store_u16(header, static_cast<std::uint16_t>(static_cast<std::uint16_t>(type) |
                                                 (critical ? kKeCriticalBit : 0U)));
    store_u16(std::span(header).subspan(2), static_cast<std::uint16_t>(body.size()));
    out.insert(out.end(), header.begin(), header.end());
    out.insert(out.end(), body.begin(), body.end());
}

std::vector<std::uint8_t> ke_error_response(KeErrorCode code) {
    std::vector<std::uint8_t> out;
    append_u16_record(out, KeRecordType::error, true, static_cast<std::uint16_t>(code));
    append_ke_record(out, KeRecordType::end_of_message, true, {});
    return out;
}

bool ke_agrees(const KeRequest& request) {
    return request.offers_ntpv4 && request.offers_aes_siv;
}

std::vector<std::uint8_t> ke_response(const KeRequest& request, const KeResponseParts& parts) {
    std::vector<std::uint8_t> out;
    append_u16_record(
        out, KeRecordType::next_protocol, true,
        request.offers_ntpv4 ? std::optional<std::uint16_t>(kNextProtocolNtpv4) : std::nullopt);
    append_u16_record(
        out, KeRecordType::aead_algorithm, true,
        request.offers_aes_siv ? std::optional<std::uint16_t>(kAeadAesSivCmac256) : std::nullopt);
    if (ke_agrees(request)) {
        for (const auto& cookie : parts.cookies) {
            append_ke_record(out, KeRecordType::new_cookie, false, cookie);
        }
        if (!parts.server.empty()) {
            const std::span<const std::uint8_t> name(
                reinterpret_cast<const std::uint8_t*>(parts.server.data()), parts.server.size());
            append_ke_record(out, KeRecordType::server, true, name);
        }
        if (parts.port) {
            append_u16_record(out, KeRecordType::port, true, parts.port);
        }
    }
    append_ke_record(out, KeRecordType::end_of_message, true, {});
    return out;
}

std::vector<std::uint8_t> ke_client_request() {
    std::vector<std::uint8_t> out;
    append_u16_record(out, KeRecordType::next_protocol, true, kNextProtocolNtpv4);
    append_u16_record(out, KeRecordType::aead_algorithm, true, kAeadAesSivCmac256);
    append_ke_record(out, KeRecordType::end_of_message, true, {});
    return out;
}

KeResponseRead read_ke_response(std::span<const std::uint8_t> received) {
    KeResponseRead read;
    const auto malformed = [&read](std::string problem) {
        read.status = KeResponseRead::Status::malformed;
        read.problem = std::move(problem);
        return read;
    };
    std::span<const std::uint8_t> rest = received;
    bool next_protocol_seen = false;
    bool aead_seen = false;
    for (;;) {
        const auto record = next_record(rest);
        if (!record) {
            return read;  // incomplete
        }
        KeResponse& response = read.response;
        switch (static_cast<KeRecordType>(record->type)) {
            case KeRecordType::end_of_message:
                if (!rest.empty()) {
                    return malformed("data after the end of message");
                }
                if (!response.error && (!next_protocol_seen || !aead_seen)) {
                    return malformed("no next protocol or AEAD record");
                }
                read.status = KeResponseRead::Status::complete;
                return read;
            case KeRecordType::next_protocol:
                if (next_protocol_seen || record->body.size() > 2 || record->body.size() == 1) {
                    return malformed("malformed next protocol record");
                }
                next_protocol_seen = true;
                response.ntpv4 = lists(record->body, kNextProtocolNtpv4);
                break;
            case KeRecordType::aead_algorithm:
                if (aead_seen || record->body.size() > 2 || record->body.size() == 1) {
                    return malformed("malformed AEAD record");
                }
                aead_seen = true;
                response.aes_siv = lists(record->body, kAeadAesSivCmac256);
                break;
            case KeRecordType::error:
                if (record->body.size() != 2) {
                    return malformed("malformed error record");
                }
                response.error = static_cast<KeErrorCode>(load_u16(record->body));
                break;
            case KeRecordType::new_cookie:
                response.cookies.emplace_back(record->body.begin(), record->body.end());
                break;
            case KeRecordType::server:
                if (!is_server_name(record->body)) {
                    return malformed("malformed server record");
                }
                response.server.assign(record->body.begin(), record->body.end());
                break;
            case KeRecordType::port:
                if (record->body.size() != 2) {
                    return malformed("malformed port record");
                }
                response.port = load_u16(record->body);
                break;
            case KeRecordType::warning:
                break;
            default:
                if (record->critical) {
                    return malformed("unrecognized critical record " +
                                     std::to_string(record->type));
                }
                break;
        }
    }
}

}  // namespace cloudtime::proto
