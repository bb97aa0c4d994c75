// SPDX-License-Identifier: Apache-2.0
// HTTP/1.1 requests as the hardened server (sys/http_server) reads them: Beast's parser under
// our limits, then the rules Beast leaves to us (ambiguous framing, field count, version).
// The same code reads bytes off a connection and, for the fuzz target and tests, off a buffer.
#pragma once

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/socket_address.hpp"

namespace cloudtime::sys {

struct HttpLimits {
    std::size_t max_connections = 4096;
    std::size_t max_connections_per_client = 32;
    std::chrono::milliseconds request_deadline{
        5000};                            // from the request's first wait to its answer
    std::size_t max_header_bytes = 8192;  // request line and fields
    std::size_t max_header_fields = 64;
    std::size_t max_body = 65536;
    unsigned max_requests_per_connection = 100;
};

struct HttpRequest {
    std::string method;  // as sent: "POST"
    std::string target;  // "/", with any query
    std::string body;
    SocketAddress peer;
};

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // extra ones ("Allow")
};

struct HttpRefusal {
    int status = 400;
    std::string why;
};

using HttpRequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// A fresh parser for one request under `limits`.
void apply_limits(HttpRequestParser& parser, const HttpLimits& limits);
// What a read error means: the server's own answer (400, 413, 431, 505), or nullopt when the
// connection merely ended (closed, cut in the middle, timed out) and nobody is to be answered.
std::optional<HttpRefusal> refusal_for(const boost::system::error_code& ec);
// Framing that Beast accepts but that two parsers could read differently, too many fields, a
// version other than 1.0 and 1.1: refused.
std::optional<HttpRefusal> check_request(
    const boost::beast::http::request<boost::beast::http::string_body>& request,
    const HttpLimits& limits);

// The requests in `bytes` as a connection would deliver them, pipelined: each complete one,
// until the first refusal (which ends the connection) or the bytes run out.
struct ReadRequest {
    std::optional<HttpRequest> request;
    std::optional<HttpRefusal> refusal;
    bool keep_alive = false;
};
std::vector<ReadRequest> read_requests(std::string_view bytes, const HttpLimits& limits,
                                       const SocketAddress& peer);

}  // namespace cloudtime::sys
