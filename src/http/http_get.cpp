// SPDX-License-Identifier: Apache-2.0
#include "http/http_get.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cmath>
#include <sstream>

namespace cloudtime::sys {

namespace {
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct Url {
    std::string host;
    std::string port = "80";
    std::string target = "/";
};

Expected<Url> parse_url(const std::string& url) {
    constexpr std::string_view kScheme = "http://";
    if (url.rfind(kScheme, 0) != 0) {
        return Error{url + ": only http:// URLs are supported"};
    }
    Url u;
    std::string rest = url.substr(kScheme.size());
    const auto slash = rest.find('/');
    if (slash != std::string::npos) {
        u.target = rest.substr(slash);
        rest = rest.substr(0, slash);
    }
    if (!rest.empty() && rest.front() == '[') {  // [IPv6]:port
        const auto close = rest.find(']');
        if (close == std::string::npos) {
            return Error{url + ": unterminated [IPv6 address]"};
        }
        u.host = rest.substr(1, close - 1);
        if (close + 1 < rest.size() && rest[close + 1] == ':') {
            u.port = rest.substr(close + 2);
        }
    } else if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
        u.host = rest.substr(0, colon);
        u.port = rest.substr(colon + 1);
    } else {
        u.host = rest;
    }
    if (u.host.empty() || u.port.empty()) {
        return Error{url + ": no host or port"};
    }
    return u;
}

std::string seconds_text(double s) {
    std::ostringstream out;
    out << s;
    return out.str();
}

Error failure(const char* stage, const beast::error_code& ec, double timeout_s) {
    if (ec == beast::error::timeout) {
        return Error{std::string(stage) + ": no answer within " + seconds_text(timeout_s) + " s",
                     ETIMEDOUT};
    }
    const int code = ec.category() == boost::system::system_category() ? ec.value() : 0;
    return Error{std::string(stage) + ": " + ec.message(), code};
}
}  // namespace

Expected<HttpAnswer> http_get(const std::string& url, double timeout_s, std::size_t max_body) {
    const auto parsed = parse_url(url);
    if (!parsed) {
        return parsed.failure();
    }
    net::io_context io;
    beast::error_code ec;
    tcp::resolver resolver(io);
    const auto endpoints = resolver.resolve(parsed->host, parsed->port, ec);
    if (ec) {
        return failure("cannot resolve", ec, timeout_s);
    }
    beast::tcp_stream stream(io);
    // Beast's timeouts apply to asynchronous operations: the exchange runs as one chain on
    // this thread's io_context, under one deadline.
    stream.expires_after(std::chrono::milliseconds(std::llround(timeout_s * 1000)));
    http::request<http::empty_body> request{http::verb::get, parsed->target, 11};
    request.set(http::field::host, parsed->host);
    request.set(http::field::user_agent, "cloudtime-check");
    request.set(http::field::connection, "close");
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_body);
    const char* stage = "cannot connect";
    stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) {
        if ((ec = e)) {
            return;
        }
        stage = "cannot send the request";
        http::async_write(stream, request, [&](beast::error_code e2, std::size_t) {
            if ((ec = e2)) {
                return;
            }
            stage = "no complete answer";
            // Header first: in Boost 1.74 an eager read of a whole response forgets the body_limit
            // error when body bytes arrive with the header, and takes the body whole.
            http::async_read_header(stream, buffer, parser, [&](beast::error_code e3, std::size_t) {
                if ((ec = e3)) {
                    return;
                }
                http::async_read(stream, buffer, parser,
                                 [&](beast::error_code e4, std::size_t) { ec = e4; });
            });
        });
    });
    io.run();
    if (ec) {
        return failure(stage, ec, timeout_s);
    }
    HttpAnswer response;
    response.status = parser.get().result_int();
    response.body = std::move(parser.get().body());
    return response;
}

}  // namespace cloudtime::sys
