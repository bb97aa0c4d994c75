// SPDX-License-Identifier: Apache-2.0
// RFC 5705 keying material from a TLS session (SSL_export_keying_material): what NTS derives
// its keys from, on the server's side and the client's.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

struct ssl_st;  // OpenSSL's SSL

namespace cloudtime::sys {

class TlsKeyExporter {
  public:
    virtual ~TlsKeyExporter() = default;
    virtual bool export_keys(std::string_view label, std::span<const std::uint8_t> context,
                             std::span<std::uint8_t> out) const = 0;
};

// The exporter of an OpenSSL session, valid while the session is.
class SslKeyExporter final : public TlsKeyExporter {
  public:
    explicit SslKeyExporter(ssl_st* ssl) : ssl_(ssl) {}
    bool export_keys(std::string_view label, std::span<const std::uint8_t> context,
                     std::span<std::uint8_t> out) const override;

  private:
    ssl_st* ssl_;
};

}  // namespace cloudtime::sys
