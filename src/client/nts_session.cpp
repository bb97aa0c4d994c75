// SPDX-License-Identifier: Apache-2.0
#include "client/nts_session.hpp"

#include <algorithm>

#include "client/random.hpp"
#include "net/resolve.hpp"
#include "proto/nts_fields.hpp"
#include "proto/nts_ke.hpp"
#include "tls/tls_client.hpp"

namespace cloudtime::client {

namespace {

proto::AesSiv& thread_siv() {
    static thread_local proto::AesSiv siv;
    return siv;
}

}  // namespace

Expected<std::size_t> add_nts_fields(NtsSession& session, NtsRequestState& state,
                                     std::span<std::uint8_t> packet) {
    if (session.cookies.empty()) {
        return Error{"NTS: no cookies left (every request spends one; lost replies bring none)"};
    }
    const std::vector<std::uint8_t> cookie = std::move(session.cookies.back());
    session.cookies.pop_back();
    const std::size_t placeholders =
        proto::kMaxNtsCookies - 1 - std::min(session.cookies.size(), proto::kMaxNtsCookies - 1);
    fill_random(state.unique_id);
    std::array<std::uint8_t, proto::kNtsNonceLength> nonce{};
    fill_random(nonce);
    const std::size_t length = proto::append_nts_request(
        thread_siv(), session.keys.c2s, packet, state.unique_id, cookie, placeholders, nonce);
    if (length == 0) {
        return Error{"NTS: cannot build the request"};
    }
    return length;
}

bool accept_nts_reply(NtsSession& session, const NtsRequestState& state,
                      std::span<const std::uint8_t> reply, bool nak) {
    auto read = proto::read_nts_reply(thread_siv(), session.keys.s2c, reply, state.unique_id, nak);
    if (read.status == proto::NtsReplyRead::Status::rejected) {
        return false;
    }
    for (auto& cookie : read.cookies) {
        session.cookies.push_back(std::move(cookie));
        ++session.cookies_received;
    }
    return true;
}

Expected<NtsSession> establish_nts(const std::string& host, std::uint16_t ke_port,
                                   std::uint16_t ntp_port, const std::string& ca_file,
                                   double timeout_s) {
    auto addresses = sys::resolve_udp(host, ke_port);
    if (!addresses) {
        return addresses.failure();
    }
    NtsSession session;
    session.ke_server = addresses->front();
    bool exported = false;
    const auto request = proto::ke_client_request();
    auto answer = sys::tls_client_exchange(
        session.ke_server, {host, "ntske/1", ca_file, timeout_s, 65536}, request,
        [](std::span<const std::uint8_t> received) {
            return proto::read_ke_response(received).status !=
                   proto::KeResponseRead::Status::incomplete;
        },
        [&](const sys::TlsKeyExporter& exporter) {
            exported = exporter.export_keys(proto::kNtsExporterLabel,
                                            proto::nts_exporter_context(false), session.keys.c2s) &&
                       exporter.export_keys(proto::kNtsExporterLabel,
                                            proto::nts_exporter_context(true), session.keys.s2c);
        });
    if (!answer) {
        return Error{"NTS-KE with " + session.ke_server.to_string() + ": " + answer.error()};
    }
    const proto::KeResponseRead read = proto::read_ke_response(*answer);
    const std::string who = "NTS-KE with " + session.ke_server.to_string() + ": ";
    if (read.status != proto::KeResponseRead::Status::complete) {
        return Error{who + "malformed answer: " + read.problem};
    }
    const proto::KeResponse& response = read.response;
    if (response.error) {
        return Error{who + "the server answered with error " +
                     std::to_string(static_cast<unsigned>(*response.error))};
    }
    if (!response.ntpv4 || !response.aes_siv) {
        return Error{who + "no common protocol or AEAD (NTPv4 with AES-SIV-CMAC-256)"};
    }
    if (response.cookies.empty()) {
        return Error{who + "no cookies in the answer"};
    }
    if (!exported) {
        return Error{who + "cannot export the keys from the TLS session"};
    }
    auto ntp = sys::resolve_udp(response.server.empty() ? host : response.server,
                                response.port.value_or(ntp_port));
    if (!ntp) {
        return Error{who + "the NTP server it named: " + ntp.error()};
    }
    session.ntp_server = ntp->front();
    session.cookies = response.cookies;
    session.cookies_received = static_cast<int>(response.cookies.size());
    return session;
}

}  // namespace cloudtime::client
