// SPDX-License-Identifier: Apache-2.0
#include "proto/nts_fields.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include "proto/extension_fields.hpp"
#include "proto/packet.hpp"

namespace cloudtime::proto {

namespace {

constexpr std::size_t kFieldHeader = 4;
constexpr std::size_t kAuthenticatorLengths = 4;  // nonce length, ciphertext length
// The encrypted fields a request or reply may carry: as many as the largest request read holds
// (a request whose encrypted placeholders ask for more cookies than are given is authentic all
// the same: answered with the cookies that fit, never NAKed).
constexpr std::size_t kMaxEncryptedFields = kMaxRequestLength;

constexpr std::size_t padded(std::size_t n) {
    return (n + 3) & ~std::size_t{3};
}

// Writes one field at `at` (header, body, zero padding to a multiple of 4 and to at least
// `min_length` in all); false when `out` has no room.
bool put_field(std::span<std::uint8_t> out, std::size_t& at, std::uint16_t type,
               std::span<const std::uint8_t> body) {
    const std::size_t length = std::max(kMinExtensionLength, kFieldHeader + padded(body.size()));
    if (at + length > out.size() || length > 0xFFFF) {
        return false;
    }
    store_u16(out.subspan(at), type);
    store_u16(out.subspan(at + 2), static_cast<std::uint16_t>(length));
    std::copy(body.begin(), body.end(), out.begin() + static_cast<long>(at + kFieldHeader));
    std::fill(out.begin() + static_cast<long>(at + kFieldHeader + body.size()),
              out.begin() + static_cast<long>(at + length), 0);
    at += length;
    return true;
}

struct Authenticator {
    std::span<const std::uint8_t> nonce;
    std::span<const std::uint8_t> ciphertext;
};

std::optional<Authenticator> read_authenticator(std::span<const std::uint8_t> body) {
    if (body.size() < kAuthenticatorLengths) {
        return std::nullopt;
    }
    const std::size_t nonce_length = load_u16(body);
    const std::size_t ciphertext_length = load_u16(body.subspan(2));
    const std::size_t needed = kAuthenticatorLengths +
                               std::max(kMinNoncePaddedLength, padded(nonce_length)) +
                               padded(ciphertext_length);
    if (nonce_length == 0 || ciphertext_length < kSivTagLength || needed > body.size()) {
        return std::nullopt;
    }
    return Authenticator{
        body.subspan(kAuthenticatorLengths, nonce_length),
        body.subspan(kAuthenticatorLengths + padded(nonce_length), ciphertext_length)};
}

// Walks fields that were encrypted: a plain sequence, each at least 16 octets.
template <typename Visit>
bool walk_plain_fields(std::span<const std::uint8_t> fields, Visit visit) {
    while (!fields.empty()) {
        if (fields.size() < kFieldHeader) {
            return false;
        }
        const std::size_t length = load_u16(fields.subspan(2));
        if (length < kMinExtensionLength || length % 4 != 0 || length > fields.size()) {
            return false;
        }
        visit(load_u16(fields), fields.subspan(kFieldHeader, length - kFieldHeader));
        fields = fields.subspan(length);
    }
    return true;
}

}  // namespace

const char* nts_request_problem_name(NtsRequestProblem problem) {
    switch (problem) {
        case NtsRequestProblem::none:
            return "none";
        case NtsRequestProblem::not_nts:
            return "not NTS";
        case NtsRequestProblem::malformed_fields:
            return "malformed extension fields";
        case NtsRequestProblem::unique_id_missing:
            return "no single unique identifier";
        case NtsRequestProblem::cookie_missing:
            return "no single cookie";
        case NtsRequestProblem::placeholder_length:
            return "placeholder unlike the cookie";
        case NtsRequestProblem::authenticator_missing:
            return "authenticator missing or not last";
        case NtsRequestProblem::authenticator_malformed:
            return "malformed authenticator";
    }
    return "unknown";
}

NtsRequestRead read_nts_request(std::span<const std::uint8_t> packet) {
    NtsRequestRead read;
    if (packet.size() <= kHeaderSize) {
        read.problem = NtsRequestProblem::not_nts;
        return read;
    }
    ExtensionCursor cursor(packet.subspan(kHeaderSize));
    std::size_t offset = kHeaderSize;
    int unique_ids = 0;
    int cookies = 0;
    int authenticators = 0;
    bool after_authenticator = false;
    std::size_t placeholder_length = 0;
    NtsRequest& request = read.request;
    while (const auto field = cursor.next()) {
        const std::size_t field_length = kFieldHeader + field->value.size();
        if (after_authenticator) {
            read.problem = NtsRequestProblem::authenticator_missing;
        }
        switch (field->type) {
            case kEfUniqueIdentifier:
                ++unique_ids;
                request.unique_id = field->value;
                break;
            case kEfCookie:
                ++cookies;
                request.cookie = field->value;
                break;
            case kEfCookiePlaceholder:
                if (placeholder_length != 0 && placeholder_length != field->value.size()) {
                    read.problem = NtsRequestProblem::placeholder_length;
                }
                placeholder_length = field->value.size();
                ++request.placeholders;
                break;
            case kEfAuthenticator: {
                ++authenticators;
                after_authenticator = true;
                request.authenticated = offset;
                const auto authenticator = read_authenticator(field->value);
                if (!authenticator) {
                    read.problem = NtsRequestProblem::authenticator_malformed;
                } else {
                    request.nonce = authenticator->nonce;
                    request.ciphertext = authenticator->ciphertext;
                }
                break;
            }
            default:
                break;
        }
        offset += field_length;
    }
    if (unique_ids + cookies + authenticators + static_cast<int>(request.placeholders) == 0) {
        read.problem = NtsRequestProblem::not_nts;
        return read;
    }
    if (cursor.error() != ExtensionError::none || !cursor.mac().empty()) {
        read.problem = NtsRequestProblem::malformed_fields;
    } else if (unique_ids != 1 || request.unique_id.size() < kMinUniqueIdLength) {
        read.problem = NtsRequestProblem::unique_id_missing;
    } else if (cookies != 1) {
        read.problem = NtsRequestProblem::cookie_missing;
    } else if (placeholder_length != 0 && placeholder_length != request.cookie.size()) {
        read.problem = NtsRequestProblem::placeholder_length;
    } else if (authenticators != 1 && read.problem == NtsRequestProblem::none) {
        read.problem = NtsRequestProblem::authenticator_missing;
    }
    return read;
}

std::size_t verify_nts_request(AesSiv& siv, const SivKey& c2s, std::span<const std::uint8_t> packet,
                               const NtsRequest& request) {
    if (request.ciphertext.size() < kSivTagLength ||
        request.ciphertext.size() - kSivTagLength > kMaxEncryptedFields ||
        request.authenticated > packet.size()) {
        return 0;
    }
    std::array<std::uint8_t, kMaxEncryptedFields> plain{};
    const auto fields = std::span(plain).first(request.ciphertext.size() - kSivTagLength);
    if (!siv.open(c2s, {packet.first(request.authenticated), request.nonce}, request.ciphertext,
                  fields)) {
        return 0;
    }
    std::size_t wanted = 1 + request.placeholders;
    bool alike = true;
    const bool well_formed =
        walk_plain_fields(fields, [&](std::uint16_t type, std::span<const std::uint8_t> value) {
            if (type == kEfCookiePlaceholder) {
                alike = alike && value.size() == request.cookie.size();
                ++wanted;
            }
        });
    return well_formed && alike ? wanted : 0;
}

std::size_t append_nts_reply(AesSiv& siv, const SivKey& s2c, std::span<std::uint8_t> reply,
                             std::span<const std::uint8_t> unique_id,
                             std::span<const std::span<const std::uint8_t>> cookies,
                             std::span<const std::uint8_t, kNtsNonceLength> nonce,
                             std::size_t request_length) {
    std::size_t at = kHeaderSize;
    if (reply.size() < kHeaderSize || !put_field(reply, at, kEfUniqueIdentifier, unique_id)) {
        return 0;
    }
    const std::size_t authenticated = at;
    std::array<std::uint8_t, kMaxEncryptedFields> plain{};
    std::size_t count = std::min(cookies.size(), kMaxNtsCookies);
    const auto plain_length = [&](std::size_t n) {
        std::size_t length = 0;
        for (std::size_t i = 0; i < n; ++i) {
            length += std::max(kMinExtensionLength, kFieldHeader + padded(cookies[i].size()));
        }
        return length;
    };
    const auto authenticator_length = [&](std::size_t n) {
        return kFieldHeader + kAuthenticatorLengths + padded(kNtsNonceLength) + kSivTagLength +
               plain_length(n);
    };
    // The reply is never longer than the request: fewer cookies if need be.
    while (count > 0 && authenticated + authenticator_length(count) > request_length) {
        --count;
    }
    std::size_t plain_at = 0;
    for (std::size_t i = 0; i < count; ++i) {
        if (!put_field(plain, plain_at, kEfCookie, cookies[i])) {
            return 0;
        }
    }
    const std::size_t natural = authenticator_length(count);
    const std::size_t length =
        std::max(natural, request_length > authenticated ? request_length - authenticated : 0);
    if (authenticated + length > reply.size() || length > 0xFFFF || length % 4 != 0) {
        return 0;
    }
    const auto field = reply.subspan(authenticated, length);
    store_u16(field, kEfAuthenticator);
    store_u16(field.subspan(2), static_cast<std::uint16_t>(length));
    store_u16(field.subspan(4), static_cast<std::uint16_t>(kNtsNonceLength));
    store_u16(field.subspan(6), static_cast<std::uint16_t>(kSivTagLength + plain_at));
    const auto body = field.subspan(kFieldHeader + kAuthenticatorLengths);
    std::copy(nonce.begin(), nonce.end(), body.begin());
    const auto sealed = body.subspan(padded(kNtsNonceLength), kSivTagLength + plain_at);
    if (!siv.seal(s2c, {reply.first(authenticated), nonce}, std::span(plain).first(plain_at),
                  sealed)) {
        return 0;
    }
    std::fill(body.begin() + static_cast<long>(padded(kNtsNonceLength) + sealed.size()), body.end(),
              0);
    return authenticated + length;
}

std::size_t append_nts_nak(std::span<std::uint8_t> reply, std::span<const std::uint8_t> unique_id) {
    std::size_t at = kHeaderSize;
    return put_field(reply, at, kEfUniqueIdentifier, unique_id) ? at : 0;
}

std::size_t append_nts_request(AesSiv& siv, const SivKey& c2s, std::span<std::uint8_t> packet,
                               std::span<const std::uint8_t> unique_id,
                               std::span<const std::uint8_t> cookie, std::size_t placeholders,
                               std::span<const std::uint8_t, kNtsNonceLength> nonce) {
    std::size_t at = kHeaderSize;
    if (!put_field(packet, at, kEfUniqueIdentifier, unique_id) ||
        !put_field(packet, at, kEfCookie, cookie)) {
        return 0;
    }
    const std::vector<std::uint8_t> placeholder(cookie.size(), 0);
    for (std::size_t i = 0; i < placeholders; ++i) {
        if (!put_field(packet, at, kEfCookiePlaceholder, placeholder)) {
            return 0;
        }
    }
    const std::size_t length =
        kFieldHeader + kAuthenticatorLengths + padded(kNtsNonceLength) + kSivTagLength;
    if (at + length > packet.size()) {
        return 0;
    }
    const auto field = packet.subspan(at, length);
    store_u16(field, kEfAuthenticator);
    store_u16(field.subspan(2), static_cast<std::uint16_t>(length));
    store_u16(field.subspan(4), static_cast<std::uint16_t>(kNtsNonceLength));
    store_u16(field.subspan(6), static_cast<std::uint16_t>(kSivTagLength));
    const auto body = field.subspan(kFieldHeader + kAuthenticatorLengths);
    std::copy(nonce.begin(), nonce.end(), body.begin());
    if (!siv.seal(c2s, {packet.first(at), nonce}, {}, body.subspan(kNtsNonceLength))) {
        return 0;
    }
    return at + length;
}

NtsReplyRead read_nts_reply(AesSiv& siv, const SivKey& s2c, std::span<const std::uint8_t> packet,
                            std::span<const std::uint8_t> unique_id, bool is_nak_kod) {
    NtsReplyRead read;
    if (packet.size() <= kHeaderSize) {
        read.problem = "no extension fields";
        return read;
    }
    ExtensionCursor cursor(packet.subspan(kHeaderSize));
    std::size_t offset = kHeaderSize;
    bool id_matches = false;
    std::optional<Authenticator> authenticator;
    std::size_t authenticated = 0;
    bool after_authenticator = false;
    while (const auto field = cursor.next()) {
        if (after_authenticator) {
            read.problem = "a field after the authenticator";
            return read;
        }
        if (field->type == kEfUniqueIdentifier) {
            id_matches = field->value.size() == padded(unique_id.size()) &&
                         std::equal(unique_id.begin(), unique_id.end(), field->value.begin());
        } else if (field->type == kEfAuthenticator) {
            after_authenticator = true;
            authenticated = offset;
            authenticator = read_authenticator(field->value);
        }
        offset += kFieldHeader + field->value.size();
    }
    if (cursor.error() != ExtensionError::none || !cursor.mac().empty()) {
        read.problem = "malformed extension fields";
        return read;
    }
    if (!id_matches) {
        read.problem = "not our unique identifier";
        return read;
    }
    if (is_nak_kod) {
        read.status = NtsReplyRead::Status::nak;
        return read;
    }
    if (!authenticator || authenticator->ciphertext.size() - kSivTagLength > kMaxEncryptedFields) {
        read.problem = "no valid authenticator";
        return read;
    }
    std::array<std::uint8_t, kMaxEncryptedFields> plain{};
    const auto fields = std::span(plain).first(authenticator->ciphertext.size() - kSivTagLength);
    if (!siv.open(s2c, {packet.first(authenticated), authenticator->nonce},
                  authenticator->ciphertext, fields)) {
        read.problem = "the authenticator does not verify";
        return read;
    }
    const bool well_formed =
        walk_plain_fields(fields, [&](std::uint16_t type, std::span<const std::uint8_t> value) {
            if (type == kEfCookie) {
                read.cookies.emplace_back(value.begin(), value.end());
            }
        });
    if (!well_formed) {
        read.problem = "malformed encrypted fields";
        return read;
    }
    read.status = NtsReplyRead::Status::authentic;
    return read;
}

}  // namespace cloudtime::proto
