// SPDX-License-Identifier: Apache-2.0
#include "http/http_request.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <iterator>

namespace cloudtime::sys {

namespace http = boost::beast::http;

void apply_limits(HttpRequestParser& parser, const HttpLimits& limits) {
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body);
}

std::optional<HttpRefusal> refusal_for(const boost::system::error_code& ec) {
    if (!ec || ec.category() != http::make_error_code(http::error::end_of_stream).category() ||
        ec == http::error::end_of_stream || ec == http::error::partial_message ||
        ec == http::error::need_more) {
        return std::nullopt;
    }
    if (ec == http::error::body_limit) {
        return HttpRefusal{413, "request body too large"};
    }
    if (ec == http::error::bad_version) {
        return HttpRefusal{505, "only HTTP/1.0 and HTTP/1.1"};
    }
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
        return HttpRefusal{431, "request header too large"};
    }
    return HttpRefusal{400, "malformed request: " + ec.message()};
}

std::optional<HttpRefusal> check_request(const http::request<http::string_body>& r,
                                         const HttpLimits& limits) {
    if (static_cast<std::size_t>(std::distance(r.begin(), r.end())) > limits.max_header_fields) {
        return HttpRefusal{431, "too many header fields"};
    }
    if (r.version() != 10 && r.version() != 11) {
        return HttpRefusal{505, "only HTTP/1.0 and HTTP/1.1"};
    }
    if (r.count(http::field::content_length) > 1) {
        return HttpRefusal{400, "more than one Content-Length"};
    }
    if (r.count(http::field::transfer_encoding) > 0 &&
        !boost::beast::iequals(r[http::field::transfer_encoding], "chunked")) {
        return HttpRefusal{400, "Transfer-Encoding other than chunked"};
    }
    return std::nullopt;
}

std::vector<ReadRequest> read_requests(std::string_view bytes, const HttpLimits& limits,
                                       const SocketAddress& peer) {
    std::vector<ReadRequest> out;
    while (!bytes.empty()) {
        HttpRequestParser parser;
        apply_limits(parser, limits);
        parser.eager(true);
        boost::system::error_code ec;
        while (!bytes.empty() && !parser.is_done()) {
            const std::size_t used =
                parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
            bytes.remove_prefix(used);
            if (ec || used == 0) {
                break;
            }
        }
        if (ec == http::error::need_more || (!ec && !parser.is_done())) {
            break;  // a request cut short: a connection would wait for the rest
        }
        if (ec) {
            out.push_back({std::nullopt, refusal_for(ec), false});
            break;
        }
        http::request<http::string_body> request = parser.release();
        if (auto refusal = check_request(request, limits)) {
            out.push_back({std::nullopt, std::move(refusal), false});
            break;
        }
        const bool keep_alive = request.keep_alive();
        out.push_back({HttpRequest{std::string(request.method_string()),
                                   std::string(request.target()), std::move(request.body()), peer},
                       std::nullopt, keep_alive});
        if (!keep_alive) {
            break;
        }
    }
    return out;
}

}  // namespace cloudtime::sys
