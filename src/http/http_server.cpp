// SPDX-License-Identifier: Apache-2.0
#include "http/http_server.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <list>
#include <tuple>

#include "net/throttled_report.hpp"
#include "tls/tls_credentials.hpp"

namespace cloudtime::sys {

namespace {
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using ClientKey = std::array<std::uint8_t, 16>;

constexpr auto kCountersEvery = std::chrono::milliseconds(100);
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);  // after EMFILE and the like
constexpr std::size_t kFramingSlack = 1024;  // chunk sizes and CRLFs beside the body
constexpr auto kLinger = std::chrono::seconds(1);
constexpr std::size_t kLingerBytes = 256U << 10U;

}  // namespace

class SessionBase {
  public:
    virtual ~SessionBase() = default;
    virtual void close() = 0;
    // Since when this connection waits for a request; nullopt while one is being answered.
    std::optional<Clock::time_point> waiting_since;
    bool answered = false;  // it had an answer before (a scraper's keep-alive connection)
    // Connections its address holds now: its entry of per_client, which lives as long as any
    // of that address's sessions (no lookup when room is made).
    const std::size_t* client_connections = nullptr;
};

struct HttpServerState {
    net::io_context io{1};
    tcp::acceptor acceptor{io};
    std::optional<ssl::context> tls;
    HttpLimits limits;
    HttpHandlers handlers;
    HttpServerCounters counters;
    net::steady_timer accept_retry{io};
    std::list<SessionBase*> sessions;  // each unregisters itself when closed
    std::map<ClientKey, std::size_t> per_client;
    std::optional<net::signal_set> signals;
    // A flood of requests makes at most 10 reports a second.
    ThrottledReport reports{io, kCountersEvery, [this] {
                                if (handlers.counters_changed) {
                                    counters.open = sessions.size();
                                    handlers.counters_changed(counters);
                                }
                            }};

    void counted() { reports.changed(); }

    void accept();
    void admit(tcp::socket socket);
    bool make_room();
    template <class Stream>
    void start_session(Stream stream, const SocketAddress& peer, bool allowed);
};

namespace {

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
  public:
    Session(HttpServerState& server, Stream stream, const SocketAddress& peer)
        : server_(server),
          stream_(std::move(stream)),
          buffer_(server.limits.max_header_bytes + server.limits.max_body + kFramingSlack),
          peer_(peer) {
        server_.sessions.push_back(this);
        place_ = std::prev(server_.sessions.end());
        auto& count = server_.per_client[peer_.mapped_octets()];
        ++count;
        client_connections = &count;
    }
    ~Session() override { unregister(); }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // allowed: read and answer requests; not allowed: answer 403 at once and close.
    void start(bool allowed) {
        beast::get_lowest_layer(stream_).expires_after(server_.limits.request_deadline);
        waiting_since = Clock::now();
        if constexpr (kTls) {
            stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this(),
                                                               allowed](beast::error_code ec) {
                if (ec) {
                    self->ended(ec);
                } else {
                    self->begin(allowed);
                }
            });
        } else {
            begin(allowed);
        }
    }

    void close() override {
        unregister();
        beast::error_code ignored;
        beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
        beast::get_lowest_layer(stream_).close();
    }

  private:
    static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

    void begin(bool allowed) {
        if (allowed) {
            read_next();
            return;
        }
        ++server_.counters.not_allowed;
        send(server_.handlers.error(403, "client not allowed"), false);
    }

    void read_next() {
        parser_.emplace();
        apply_limits(*parser_, server_.limits);
        waiting_since = Clock::now();
        beast::get_lowest_layer(stream_).expires_after(server_.limits.request_deadline);
        http::async_read(stream_, buffer_, *parser_,
                         [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                             self->on_read(ec);
                         });
    }

    void on_read(const beast::error_code& ec) {
        if (const auto refusal = refusal_for(ec)) {
            ++server_.counters.malformed;
            send(server_.handlers.error(refusal->status, refusal->why), false);
            return;
        }
        if (ec) {
            ended(ec);
            return;
        }
        http::request<http::string_body> request = parser_->release();
        if (const auto refusal = check_request(request, server_.limits)) {
            ++server_.counters.malformed;
            send(server_.handlers.error(refusal->status, refusal->why), false);
            return;
        }
        ++requests_;
        const bool keep_alive =
            request.keep_alive() && requests_ < server_.limits.max_requests_per_connection;
        HttpRequest r{std::string(request.method_string()), std::string(request.target()),
                      std::move(request.body()), peer_};
        send(answer_of(r), keep_alive, request.version());
    }

    // The application's answer; whatever it throws stays here, as a 500 for this request.
    HttpResponse answer_of(const HttpRequest& request) {
        try {
            return server_.handlers.answer(request);
        } catch (const std::exception&) {
            return server_.handlers.error(500, "internal error");
        }
    }

    void send(const HttpResponse& answer, bool keep_alive, unsigned version = 11) {
        waiting_since.reset();
        auto response = std::make_shared<http::response<http::string_body>>(
            static_cast<http::status>(answer.status), version);
        response->set(http::field::content_type, answer.content_type);
        for (const auto& [name, value] : answer.headers) {
            response->set(name, value);
        }
        response->body() = answer.body;
        response->keep_alive(keep_alive);
        response->prepare_payload();
        ++server_.counters.responses[answer.status];
        server_.counted();
        http::async_write(stream_, *response,
                          [self = this->shared_from_this(), response, keep_alive](
                              beast::error_code ec, std::size_t) {
                              self->answered = true;
                              if (ec) {
                                  self->ended(ec);
                              } else if (!keep_alive) {
                                  self->linger();
                              } else {
                                  self->read_next();
                              }
                          });
    }

    // After a last answer: stop sending, then read and drop what the client still sends (a
    // body we refused to read) for a short while, so that closing does not reset the
    // connection before the client has read the answer. Bounded in time and bytes.
    void linger() {
        beast::error_code ignored;
        auto& socket = beast::get_lowest_layer(stream_).socket();
        socket.shutdown(tcp::socket::shutdown_send, ignored);
        waiting_since = Clock::time_point::min();  // the first to go when room is needed
        beast::get_lowest_layer(stream_).expires_after(kLinger);
        drain();
    }
    void drain() {
        beast::get_lowest_layer(stream_).async_read_some(
            net::buffer(discard_),
            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                self->drained_ += n;
                if (ec || self->drained_ > kLingerBytes) {
                    if (ec != net::error::operation_aborted) {
                        self->close();
                    }
                    return;
                }
                self->drain();
            });
    }

    void ended(const beast::error_code& ec) {
        if (ec == beast::error::timeout) {
            ++server_.counters.deadline_expired;
            server_.counted();
        }
        if (ec != net::error::operation_aborted) {
            close();
        }
    }

    void unregister() {
        if (!registered_) {
            return;
        }
        registered_ = false;
        server_.sessions.erase(place_);
        if (auto it = server_.per_client.find(peer_.mapped_octets());
            it != server_.per_client.end()) {
            if (--it->second == 0) {
                server_.per_client.erase(it);
            }
        }
    }

    HttpServerState& server_;
    Stream stream_;
    beast::flat_buffer buffer_;
    std::optional<HttpRequestParser> parser_;
    SocketAddress peer_;
    std::list<SessionBase*>::iterator place_;
    bool registered_ = true;
    unsigned requests_ = 0;
    std::array<char, 4096> discard_{};
    std::size_t drained_ = 0;
};

}  // namespace

void HttpServerState::accept() {
    acceptor.async_accept(io, [this](const beast::error_code& ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted) {
            return;
        }
        if (ec) {  // out of descriptors, most likely: try again shortly, never spin
            accept_retry.expires_after(kAcceptRetry);
            accept_retry.async_wait([this](const beast::error_code& e) {
                if (!e) {
                    accept();
                }
            });
            return;
        }
        admit(std::move(socket));
        accept();
    });
}

bool HttpServerState::make_room() {
    if (sessions.size() < limits.max_connections) {
        return true;
    }
    // Who goes, among those waiting: one that had its last answer (lingering); else one that
    // never had an answer before one that did (a scraper's or Nova's connection kept between
    // requests goes last, whatever a churn of connections from many addresses does); then
    // from the address holding the most connections; then the one waiting longest.
    const auto rank = [this](const SessionBase* s) {
        return std::tuple(*s->waiting_since != Clock::time_point::min(), s->answered,
                          limits.max_connections - *s->client_connections, *s->waiting_since);
    };
    SessionBase* victim = nullptr;
    decltype(rank(nullptr)) lowest{};
    for (SessionBase* s : sessions) {
        if (!s->waiting_since) {
            continue;
        }
        if (const auto r = rank(s); !victim || r < lowest) {
            victim = s;
            lowest = r;
        }
    }
    if (victim == nullptr) {
        return false;
    }
    ++counters.evicted;
    victim->close();
    return true;
}

void HttpServerState::admit(tcp::socket socket) {
    beast::error_code ec;
    const auto endpoint = socket.remote_endpoint(ec);
    auto peer =
        ec ? std::nullopt
           : SocketAddress::from_sockaddr(endpoint.data(), static_cast<socklen_t>(endpoint.size()));
    ++counters.connections;
    counted();
    if (!peer) {
        return;  // gone already
    }
    const auto key = peer->mapped_octets();
    const auto it = per_client.find(key);
    if ((it != per_client.end() && it->second >= limits.max_connections_per_client) ||
        !make_room()) {
        ++counters.over_client_limit;
        socket.close(ec);
        return;
    }
    const bool allowed = !handlers.allowed || handlers.allowed(*peer);
    beast::tcp_stream stream(std::move(socket));
    if (tls) {
        start_session(beast::ssl_stream<beast::tcp_stream>(std::move(stream), *tls), *peer,
                      allowed);
    } else {
        start_session(std::move(stream), *peer, allowed);
    }
}

template <class Stream>
void HttpServerState::start_session(Stream stream, const SocketAddress& peer, bool allowed) {
    std::make_shared<Session<Stream>>(*this, std::move(stream), peer)->start(allowed);
}

HttpServer::HttpServer(std::unique_ptr<HttpServerState> state) : state_(std::move(state)) {}
HttpServer::~HttpServer() = default;

Expected<std::unique_ptr<HttpServer>> HttpServer::create(UniqueFd listener, HttpLimits limits,
                                                         std::optional<TlsCredentials> tls,
                                                         HttpHandlers handlers) {
    auto state = std::make_unique<HttpServerState>();
    state->limits = limits;
    state->handlers = std::move(handlers);
    const auto local = local_address_of(listener.get());
    if (!local) {
        return os_error("http server: the listening socket");
    }
    beast::error_code ec;
    const int fd = listener.get();
    state->acceptor.assign(local->is_ipv6() ? tcp::v6() : tcp::v4(), fd, ec);
    if (ec) {
        return Error{"http server: cannot use the listening socket: " + ec.message()};
    }
    (void)listener.release();  // the acceptor owns it now
    if (tls) {
        auto context = tls_server_context(*tls);
        if (!context) {
            return context.failure();
        }
        state->tls.emplace(std::move(context).value());
    }
    return std::unique_ptr<HttpServer>(new HttpServer(std::move(state)));
}

void HttpServer::run(const std::vector<int>& stop_signals) {
    if (!stop_signals.empty()) {
        state_->signals.emplace(state_->io);
        for (const int s : stop_signals) {
            state_->signals->add(s);
        }
        state_->signals->async_wait([this](const beast::error_code& ec, int) {
            if (!ec) {
                stop();
            }
        });
    }
    state_->accept();
    state_->io.run();
}

void HttpServer::stop() {
    state_->io.stop();
}

}  // namespace cloudtime::sys
