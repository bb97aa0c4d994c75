// SPDX-License-Identifier: Apache-2.0
#include "proto/nts_ke.hpp"

#include <gtest/gtest.h>

#include "proto/aes_siv.hpp"

namespace cloudtime::proto {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes record(std::uint16_t type, bool critical, const Bytes& body) {
    Bytes out;
    append_ke_record(out, static_cast<KeRecordType>(type), critical, body);
    return out;
}

Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

const Bytes kEnd = record(0, true, {});
const Bytes kNtpv4 = record(1, true, {0, 0});
const Bytes kSiv = record(4, true, {0, 15});

KeRequestProblem problem_of(const Bytes& request) {
    const auto read = read_ke_request(request);
    EXPECT_EQ(read.status, KeRequestRead::Status::refused);
    return read.problem;
}

TEST(NtsKe, ClientRequestIsReadBack) {
    const Bytes request = ke_client_request();
    EXPECT_EQ(request, cat({kNtpv4, kSiv, kEnd}));
    const auto read = read_ke_request(request);
    ASSERT_EQ(read.status, KeRequestRead::Status::complete);
    EXPECT_TRUE(read.request.offers_ntpv4);
    EXPECT_TRUE(read.request.offers_aes_siv);
    EXPECT_TRUE(ke_agrees(read.request));
}

TEST(NtsKe, EveryPrefixIsIncomplete) {
    const Bytes request =
        cat({kNtpv4, record(4, false, {0, 30, 0, 15}), record(7, false, {0, 123}),
             record(6, false, {'a', '.', 'b'}), record(0x4000, false, {1}), kEnd});
    for (std::size_t n = 0; n < request.size(); ++n) {
        EXPECT_EQ(
            read_ke_request(Bytes(request.begin(), request.begin() + static_cast<long>(n))).status,
            KeRequestRead::Status::incomplete)
            << n;
    }
    const auto read = read_ke_request(request);
    ASSERT_EQ(read.status, KeRequestRead::Status::complete);
    EXPECT_TRUE(read.request.offers_aes_siv);  // the second of those offered
    EXPECT_EQ(read.request.port, 123);
    EXPECT_EQ(read.request.server, "a.b");
}

TEST(NtsKe, MalformedRequestsAreRefusedWithTheirReason) {
    EXPECT_EQ(problem_of(cat({kNtpv4, kSiv, kEnd, Bytes{0}})), KeRequestProblem::data_after_end);
    EXPECT_EQ(problem_of(cat({kNtpv4, kSiv, record(0, false, {})})),
              KeRequestProblem::end_not_critical);
    EXPECT_EQ(problem_of(cat({kNtpv4, kSiv, record(0, true, {0, 0})})),
              KeRequestProblem::end_not_critical);
    EXPECT_EQ(problem_of(cat({kSiv, kEnd})), KeRequestProblem::next_protocol_missing);
    EXPECT_EQ(problem_of(cat({kNtpv4, kNtpv4, kSiv, kEnd})),
              KeRequestProblem::next_protocol_missing);
    EXPECT_EQ(problem_of(cat({record(1, false, {0, 0}), kSiv, kEnd})),
              KeRequestProblem::next_protocol_malformed);
    EXPECT_EQ(problem_of(cat({record(1, true, {0}), kSiv, kEnd})),
              KeRequestProblem::next_protocol_malformed);
    EXPECT_EQ(problem_of(cat({record(1, true, {}), kSiv, kEnd})),
              KeRequestProblem::next_protocol_malformed);
    EXPECT_EQ(problem_of(cat({kNtpv4, kEnd})), KeRequestProblem::aead_missing);
    EXPECT_EQ(problem_of(cat({kNtpv4, kSiv, kSiv, kEnd})), KeRequestProblem::aead_missing);
    EXPECT_EQ(problem_of(cat({kNtpv4, record(4, true, {0, 15, 1}), kEnd})),
              KeRequestProblem::aead_malformed);
    for (const std::uint16_t type : {std::uint16_t{2}, std::uint16_t{3}, std::uint16_t{5}}) {
        EXPECT_EQ(problem_of(cat({kNtpv4, kSiv, record(type, false, {0, 0}), kEnd})),
                  KeRequestProblem::server_only_record);
    }
    EXPECT_EQ(problem_of(cat({kNtpv4, kSiv, record(7, false, {1}), kEnd})),
              KeRequestProblem::server_or_port_malformed);
    EXPECT_EQ(problem_of(cat({kNtpv4, kSiv, record(6, false, {'a', ' '}), kEnd})),
              KeRequestProblem::server_or_port_malformed);
    EXPECT_EQ(problem_of(cat({kNtpv4, kSiv, record(6, false, {}), kEnd})),
              KeRequestProblem::server_or_port_malformed);
    const auto unknown = read_ke_request(cat({kNtpv4, kSiv, record(0x1234, true, {}), kEnd}));
    EXPECT_EQ(unknown.problem, KeRequestProblem::unrecognized_critical_record);
    EXPECT_EQ(unknown.error, KeErrorCode::unrecognized_critical_record);
}

TEST(NtsKe, OversizedRequestsAreRefusedAtTheHeader) {
    // A record declaring 60 000 octets is refused before they come.
    const Bytes header{0x40, 0x00, 0xEA, 0x60};
    EXPECT_EQ(problem_of(cat({kNtpv4, header})), KeRequestProblem::too_long);
    // Many small unknown records: refused once past the limit.
    Bytes many = kNtpv4;
    while (many.size() < kMaxKeRequestLength + 8) {
        many = cat({many, record(0x4000, false, {0, 0, 0, 0})});
    }
    EXPECT_EQ(problem_of(many), KeRequestProblem::too_long);
}

TEST(NtsKe, ResponseCarriesCookiesOnlyOnAgreement) {
    const std::vector<Bytes> cookies(8, Bytes(100, 7));
    KeRequest request{true, true, {}, {}};
    const Bytes response = ke_response(request, {cookies, "", 4123});
    const auto read = read_ke_response(response);
    ASSERT_EQ(read.status, KeResponseRead::Status::complete) << read.problem;
    EXPECT_TRUE(read.response.ntpv4);
    EXPECT_TRUE(read.response.aes_siv);
    EXPECT_EQ(read.response.cookies.size(), 8U);
    EXPECT_EQ(read.response.cookies[0], Bytes(100, 7));
    EXPECT_EQ(read.response.port, 4123);
    EXPECT_TRUE(read.response.server.empty());
    EXPECT_FALSE(read.response.error);

    request.offers_aes_siv = false;  // nothing in common: an empty AEAD record, no cookies
    const auto refused = read_ke_response(ke_response(request, {cookies, "", std::nullopt}));
    ASSERT_EQ(refused.status, KeResponseRead::Status::complete) << refused.problem;
    EXPECT_TRUE(refused.response.ntpv4);
    EXPECT_FALSE(refused.response.aes_siv);
    EXPECT_TRUE(refused.response.cookies.empty());
}

TEST(NtsKe, ExporterContextOfRfc8915) {
    EXPECT_EQ(nts_exporter_context(false), (std::array<std::uint8_t, 5>{0, 0, 0, 15, 0}));
    EXPECT_EQ(nts_exporter_context(true), (std::array<std::uint8_t, 5>{0, 0, 0, 15, 1}));
}

TEST(NtsKe, ErrorResponse) {
    const auto read = read_ke_response(ke_error_response(KeErrorCode::bad_request));
    ASSERT_EQ(read.status, KeResponseRead::Status::complete);
    EXPECT_EQ(read.response.error, KeErrorCode::bad_request);
}

TEST(NtsKe, MalformedResponses) {
    EXPECT_EQ(read_ke_response(cat({kNtpv4, kEnd})).status, KeResponseRead::Status::malformed);
    EXPECT_EQ(read_ke_response(cat({kNtpv4, kSiv, kEnd, kEnd})).status,
              KeResponseRead::Status::malformed);
    EXPECT_EQ(read_ke_response(cat({kNtpv4, kSiv, record(0x7777, true, {}), kEnd})).status,
              KeResponseRead::Status::malformed);
    EXPECT_EQ(read_ke_response(cat({kNtpv4, kSiv})).status, KeResponseRead::Status::incomplete);
}

}  // namespace
}  // namespace cloudtime::proto
