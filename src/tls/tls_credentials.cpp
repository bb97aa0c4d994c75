// SPDX-License-Identifier: Apache-2.0
#include "tls/tls_credentials.hpp"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>

#include <boost/asio/buffer.hpp>

namespace cloudtime::sys {

Expected<boost::asio::ssl::context> tls_server_context(const TlsCredentials& tls) {
    namespace ssl = boost::asio::ssl;
    boost::system::error_code ec;
    ssl::context context(ssl::context::tls_server);
    context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                            ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                            ssl::context::no_tlsv1_1,
                        ec);
    if (!ec) {
        context.use_certificate_chain(boost::asio::buffer(tls.certificate_chain_pem), ec);
    }
    if (ec) {
        return Error{"the certificate is not a usable PEM certificate chain: " + ec.message()};
    }
    context.use_private_key(boost::asio::buffer(tls.private_key_pem), ssl::context::pem, ec);
    if (ec || SSL_CTX_check_private_key(context.native_handle()) != 1) {
        return Error{"the key is not a usable PEM private key for the certificate" +
                     (ec ? ": " + ec.message() : std::string())};
    }
    return context;
}

Expected<std::int64_t> certificate_expiry(const TlsCredentials& tls) {
    const std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(tls.certificate_chain_pem.data(),
                        static_cast<int>(tls.certificate_chain_pem.size())),
        &BIO_free);
    if (!bio) {
        return Error{"cannot read the certificate: out of memory"};
    }
    const std::unique_ptr<X509, decltype(&X509_free)> certificate(
        PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
    if (!certificate) {
        return Error{"the certificate is not a PEM certificate"};
    }
    std::tm expiry{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(certificate.get()), &expiry) != 1) {
        return Error{"the certificate's notAfter cannot be read"};
    }
    return static_cast<std::int64_t>(::timegm(&expiry));
}

Status check_tls_credentials(const TlsCredentials& tls) {
    auto context = tls_server_context(tls);
    if (!context) {
        return context.failure();
    }
    return Done{};
}

}  // namespace cloudtime::sys
