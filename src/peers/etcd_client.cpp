// SPDX-License-Identifier: Apache-2.0
#include "peers/etcd_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "net/socket_address.hpp"

namespace cloudtime::sys {

namespace {
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

constexpr std::size_t kMaxAnswer = std::size_t{1} << 20U;
constexpr auto kStopCheck = std::chrono::milliseconds(100);

using Endpoint = EtcdClient::Endpoint;

Expected<Endpoint> parse_endpoint(const std::string& url) {
    Endpoint out{.url = url};
    std::string rest;
    if (url.rfind("http://", 0) == 0) {
        rest = url.substr(7);
    } else if (url.rfind("https://", 0) == 0) {
        out.tls = true;
        rest = url.substr(8);
    } else {
        return Error{"etcd endpoint '" + url +
                     "': not http://ADDRESS:PORT or https://ADDRESS:PORT"};
    }
    if (!rest.empty() && rest.back() == '/') {
        rest.pop_back();
    }
    const auto address = parse_socket_address(rest, 0);
    if (!address || address->port() == 0) {
        return Error{"etcd endpoint '" + url +
                     "': give an IP address and a port (names are not resolved)"};
    }
    out.host = address->host_string();
    out.port = address->port();
    return out;
}

std::string describe(const beast::error_code& ec, std::chrono::milliseconds timeout) {
    if (ec == beast::error::timeout) {
        return "no answer within " + std::to_string(timeout.count()) + " ms";
    }
    return ec.message();
}

}  // namespace

struct EtcdClient::Call {
    std::chrono::milliseconds timeout{};
    // Streamed: read until done(body so far) says true; a timeout then means "nothing came".
    std::function<bool(const std::string&)> done{};
    const std::atomic<bool>* stop = nullptr;
    bool finished = false;  // done() said so
};

namespace {

http::request<http::string_body> post_request(const Endpoint& endpoint, const std::string& path,
                                              const std::string& body) {
    http::request<http::string_body> request{http::verb::post, path, 11};
    request.set(http::field::host, endpoint.host);
    request.set(http::field::content_type, "application/json");
    request.body() = body;
    request.prepare_payload();
    return request;
}

// Checks `stop` every kStopCheck while an exchange runs, and cancels it when set.
class StopWatch {
  public:
    StopWatch(net::io_context& io, const std::atomic<bool>* stop, std::function<void()> cancel)
        : timer_(io), stop_(stop), cancel_(std::move(cancel)) {
        if (stop_ != nullptr) {
            arm();
        }
    }
    // The exchange ended: a check already due must not arm another (io.run() would never
    // return).
    void end() {
        ended_ = true;
        timer_.cancel();
    }

  private:
    void arm() {
        timer_.expires_after(kStopCheck);
        timer_.async_wait([this](beast::error_code e) {
            if (e || ended_) {
                return;
            }
            if (stop_->load()) {
                cancel_();
                return;
            }
            arm();
        });
    }
    net::steady_timer timer_;
    const std::atomic<bool>* stop_;
    std::function<void()> cancel_;
    bool ended_ = false;
};

// What an exchange that ended at `stage` with `ec` returns.
Expected<std::string> exchange_outcome(const EtcdClient::Call& call, bool sent,
                                       const beast::error_code& ec, const char* stage,
                                       const http::response<http::string_body>& response,
                                       std::string streamed) {
    if (call.finished) {
        return streamed;
    }
    if (call.done && sent && (ec == beast::error::timeout || ec == net::error::operation_aborted)) {
        return std::string();  // waited the whole time, or asked to stop: no change
    }
    if (ec) {
        return Error{std::string(stage) + ": " + describe(ec, call.timeout)};
    }
    if (response.result() != http::status::ok) {
        return Error{"HTTP " + std::to_string(response.result_int()) + ": " +
                     response.body().substr(0, 200)};
    }
    return call.done ? streamed : response.body();
}

// One POST over `stream` (connected or not yet), run on `io` to its end.
template <typename Stream>
Expected<std::string> exchange(
    net::io_context& io, Stream& stream, const Endpoint& endpoint, const std::string& path,
    const std::string& body, EtcdClient::Call& call, const std::function<void()>& cancel,
    const std::function<void(std::function<void(beast::error_code)>)>& handshake) {
    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_after(call.timeout);
    auto request = post_request(endpoint, path, body);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxAnswer);
    std::string streamed;
    auto on_chunk = [&](std::uint64_t, beast::string_view data, beast::error_code& ec) {
        streamed.append(data.data(), data.size());
        if (streamed.size() > kMaxAnswer) {
            ec = http::error::body_limit;
        } else if (call.done(streamed)) {
            call.finished = true;
            ec = net::error::operation_aborted;  // enough: stop reading
        }
        return data.size();
    };
    if (call.done) {
        parser.on_chunk_body(on_chunk);
    }
    StopWatch watch(io, call.stop, cancel);
    const auto end = [&watch] { watch.end(); };
    beast::error_code ec;
    const char* stage = "cannot connect";
    bool sent = false;
    lowest.async_connect(tcp::endpoint(net::ip::make_address(endpoint.host), endpoint.port),
                         [&](beast::error_code e) {
                             if ((ec = e)) {
                                 end();
                                 return;
                             }
                             stage = "TLS handshake failed";
                             handshake([&](beast::error_code e1) {
                                 if ((ec = e1)) {
                                     end();
                                     return;
                                 }
                                 stage = "cannot send the request";
                                 http::async_write(
                                     stream, request, [&](beast::error_code e2, std::size_t) {
                                         if ((ec = e2)) {
                                             end();
                                             return;
                                         }
                                         stage = "no complete answer";
                                         sent = true;
                                         http::async_read(stream, buffer, parser,
                                                          [&](beast::error_code e3, std::size_t) {
                                                              ec = e3;
                                                              end();
                                                          });
                                     });
                             });
                         });
    io.run();
    return exchange_outcome(call, sent, ec, stage, parser.get(), std::move(streamed));
}

}  // namespace

Expected<EtcdClient> EtcdClient::create(EtcdOptions options) {
    if (options.endpoints.empty()) {
        return Error{"no etcd endpoints"};
    }
    std::vector<Endpoint> endpoints;
    for (const auto& url : options.endpoints) {
        auto parsed = parse_endpoint(url);
        if (!parsed) {
            return parsed.failure();
        }
        endpoints.push_back(std::move(*parsed));
    }
    if (options.certificate_pem.empty() != options.private_key_pem.empty()) {
        return Error{"an etcd client certificate needs its private key, and the other way round"};
    }
    return EtcdClient(std::move(options), std::move(endpoints));
}

Expected<std::string> EtcdClient::post(const std::string& path, const std::string& body,
                                       Call& call) {
    std::string problems;
    const std::size_t count = endpoints_.size();
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t index = (preferred_ + i) % count;
        const Endpoint& endpoint = endpoints_[index];
        const std::string& url = endpoint.url;
        net::io_context io;
        Expected<std::string> answer = Error{"not tried"};
        if (!endpoint.tls) {
            beast::tcp_stream stream(io);
            answer = exchange(
                io, stream, endpoint, path, body, call, [&] { stream.cancel(); },
                [](const std::function<void(beast::error_code)>& next) { next({}); });
        } else {
            ssl::context context(ssl::context::tls_client);
            beast::error_code ec;
            if (options_.ca_pem.empty()) {
                context.set_default_verify_paths(ec);
            } else {
                context.add_certificate_authority(net::buffer(options_.ca_pem), ec);
            }
            if (!ec && !options_.certificate_pem.empty()) {
                context.use_certificate_chain(net::buffer(options_.certificate_pem), ec);
                if (!ec) {
                    context.use_private_key(net::buffer(options_.private_key_pem),
                                            ssl::context::pem, ec);
                }
            }
            if (ec) {
                return Error{"etcd TLS material: " + ec.message()};
            }
            context.set_verify_mode(ssl::verify_peer);
            beast::ssl_stream<beast::tcp_stream> stream(io, context);
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(stream.native_handle()),
                                          endpoint.host.c_str());
            answer = exchange(
                io, stream, endpoint, path, body, call,
                [&] { beast::get_lowest_layer(stream).cancel(); },
                [&](const std::function<void(beast::error_code)>& next) {
                    stream.async_handshake(ssl::stream_base::client,
                                           [next](beast::error_code e) { next(e); });
                });
        }
        if (answer) {
            preferred_ = index;
            endpoint_ = url;
            return answer;
        }
        problems += (problems.empty() ? "" : "; ") + url + ": " + answer.error();
        if (call.stop != nullptr && call.stop->load()) {
            break;
        }
    }
    return Error{"no etcd endpoint answered (" + problems + ")"};
}

Expected<EtcdRead> EtcdClient::get(const std::string& key) {
    Call call{.timeout = options_.timeout};
    const auto body = post("/v3/kv/range", range_request(key), call);
    if (!body) {
        return body.failure();
    }
    return read_range_answer(*body);
}

Expected<bool> EtcdClient::put_if_unchanged(const std::string& key, const std::string& value,
                                            std::int64_t mod_revision) {
    Call call{.timeout = options_.timeout};
    const auto body = post("/v3/kv/txn", txn_request(key, value, mod_revision), call);
    if (!body) {
        return body.failure();
    }
    return read_txn_answer(*body);
}

Expected<bool> EtcdClient::wait_for_change(const std::string& key, std::int64_t after,
                                           std::chrono::milliseconds wait,
                                           const std::atomic<bool>& stop) {
    Call call{.timeout = wait,
              .done = [](const std::string& so_far) { return watch_saw_event(so_far); },
              .stop = &stop};
    const auto body = post("/v3/watch", watch_request(key, after), call);
    if (!body) {
        return body.failure();
    }
    return call.finished;
}

}  // namespace cloudtime::sys
