// SPDX-License-Identifier: Apache-2.0
#include "tls/tls_key_exporter.hpp"

#include <openssl/ssl.h>

namespace cloudtime::sys {

bool SslKeyExporter::export_keys(std::string_view label, std::span<const std::uint8_t> context,
                                 std::span<std::uint8_t> out) const {
    return SSL_export_keying_material(ssl_, out.data(), out.size(), label.data(), label.size(),
                                      context.data(), context.size(), 1) == 1;
}

}  // namespace cloudtime::sys
