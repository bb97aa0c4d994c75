// SPDX-License-Identifier: Apache-2.0
#include "tls/tls_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <cmath>

namespace cloudtime::sys {

namespace {
namespace beast = boost::beast;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

std::string tls_reason(const beast::error_code& ec) {
    if (ec == beast::error::timeout) {
        return "timed out";
    }
    return ec.message();
}

// TLS 1.3 only, verifying the server against the CA file (or the system's).
Expected<ssl::context> client_context(const TlsClientOptions& options) {
    ssl::context context(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_3_VERSION);
    beast::error_code ec;
    if (options.ca_file.empty()) {
        context.set_default_verify_paths(ec);
    } else {
        context.load_verify_file(options.ca_file, ec);
    }
    if (ec) {
        return Error{"cannot read the CA certificates " + options.ca_file + ": " + ec.message()};
    }
    context.set_verify_mode(ssl::verify_peer);
    return context;
}

// The certificate must name what was asked for (an IP address, or a host name, then sent as
// SNI too), and the server must agree to the ALPN protocol.
void name_the_server(SSL* ssl, const TlsClientOptions& options) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    const bool is_address = X509_VERIFY_PARAM_set1_ip_asc(param, options.server_name.c_str()) == 1;
    if (!is_address) {
        X509_VERIFY_PARAM_set1_host(param, options.server_name.c_str(), 0);
        // SSL_set_tlsext_host_name, without its C cast.
        SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(options.server_name.c_str()));
    }
    std::vector<unsigned char> protocols{static_cast<unsigned char>(options.alpn.size())};
    protocols.insert(protocols.end(), options.alpn.begin(), options.alpn.end());
    SSL_set_alpn_protos(ssl, protocols.data(), static_cast<unsigned>(protocols.size()));
}

// Why an exchange ended without a whole answer, from the stage it reached.
Error exchange_error(std::string_view stage, const beast::error_code& ec, SSL* ssl,
                     const TlsClientOptions& options) {
    if (stage == "the server does not speak") {
        return Error{"the server does not speak " + options.alpn + " (ALPN)"};
    }
    const long verify = SSL_get_verify_result(ssl);
    if (stage == "TLS handshake failed" && verify != X509_V_OK) {
        return Error{std::string("the server's certificate is not trusted: ") +
                     X509_verify_cert_error_string(verify)};
    }
    return Error{std::string(stage) + ": " +
                 (ec ? tls_reason(ec) : std::string("the server closed the connection"))};
}

}  // namespace

Expected<std::vector<std::uint8_t>> tls_client_exchange(
    const SocketAddress& server, const TlsClientOptions& options,
    std::span<const std::uint8_t> request,
    const std::function<bool(std::span<const std::uint8_t>)>& complete,
    const std::function<void(const TlsKeyExporter&)>& on_session) {
    auto context = client_context(options);
    if (!context) {
        return context.failure();
    }
    net::io_context io;
    beast::ssl_stream<beast::tcp_stream> stream(io, *context);
    SSL* ssl = stream.native_handle();
    name_the_server(ssl, options);
    beast::error_code ec;

    beast::get_lowest_layer(stream).expires_after(
        std::chrono::milliseconds(std::llround(options.timeout_s * 1000)));
    const tcp::endpoint endpoint(net::ip::make_address(server.host_string()), server.port());
    std::vector<std::uint8_t> received;
    std::array<std::uint8_t, 4096> chunk{};
    const char* stage = "cannot connect";
    bool whole = false;
    std::function<void()> read_more = [&] {
        stream.async_read_some(net::buffer(chunk), [&](beast::error_code e, std::size_t n) {
            received.insert(received.end(), chunk.begin(), chunk.begin() + static_cast<long>(n));
            if (complete(received)) {
                whole = true;
                return;
            }
            if ((ec = e)) {
                return;
            }
            if (received.size() > options.max_answer) {
                stage = "the answer is too long";
                ec = net::error::no_buffer_space;
                return;
            }
            read_more();
        });
    };
    beast::get_lowest_layer(stream).async_connect(endpoint, [&](beast::error_code e) {
        if ((ec = e)) {
            return;
        }
        stage = "TLS handshake failed";
        stream.async_handshake(ssl::stream_base::client, [&](beast::error_code e2) {
            if ((ec = e2)) {
                return;
            }
            const unsigned char* selected = nullptr;
            unsigned length = 0;
            SSL_get0_alpn_selected(ssl, &selected, &length);
            if (std::string_view(reinterpret_cast<const char*>(selected), length) != options.alpn) {
                stage = "the server does not speak";
                ec = net::error::no_protocol_option;
                return;
            }
            on_session(SslKeyExporter(ssl));
            stage = "cannot send the request";
            net::async_write(stream, net::buffer(request.data(), request.size()),
                             [&](beast::error_code e3, std::size_t) {
                                 if ((ec = e3)) {
                                     return;
                                 }
                                 stage = "no complete answer";
                                 read_more();
                             });
        });
    });
    io.run();
    if (whole) {
        return received;
    }
    return exchange_error(stage, ec, ssl, options);
}

}  // namespace cloudtime::sys
