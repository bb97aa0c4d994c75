#include "sys/tls_exchange_server.hpp"

#include <openssl/ssl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <list>
#include <map>
#include <mutex>

#include "sys/socket_address.hpp"
#include "sys/throttled_report.hpp"

namespace cloudtime::sys {

namespace {
namespace beast = boost::beast;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using ClientKey = std::array<std::uint8_t, 16>;

constexpr auto kCountersEvery = std::chrono::milliseconds(100);
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);
constexpr std::size_t kReadChunk = 512;
}  // namespace

struct TlsExchangeState {
    // What sessions touch when they end: declared before `io`, so that it outlives the
    // handlers (holding sessions) that `io` destroys when it goes.
    std::string alpn;
    TlsExchangeLimits limits;
    TlsExchangeHandlers handlers;
    TlsExchangeCounters counters;
    std::shared_ptr<ssl::context> tls;
    // Connections still waiting for their answer, oldest first: how each is closed.
    struct Waiting {
        std::function<void()> close;
    };
    std::list<Waiting> sessions;
    std::map<ClientKey, std::size_t> per_client;

    net::io_context io{1};
    // I/O objects: declared after `io`, so that they go before it.
    // By id; a pending accept or retry holds its acceptor, so removing one only closes it.
    std::map<TlsListenerId, std::shared_ptr<tcp::acceptor>> acceptors;
    // A flood of connections makes at most 10 reports a second.
    ThrottledReport reports{io, kCountersEvery, [this] {
                                if (handlers.counters_changed) {
                                    counters.open = sessions.size();
                                    handlers.counters_changed(counters);
                                }
                            }};

    void counted() { reports.changed(); }
    void accept(const std::shared_ptr<tcp::acceptor>& acceptor);
    void admit(tcp::socket socket);
};

namespace {

// The one protocol served, or the alert RFC 7301 asks for (no_application_protocol).
int select_alpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_length,
                const unsigned char* in, unsigned in_length, void* arg) {
    auto* state = static_cast<TlsExchangeState*>(arg);
    for (unsigned i = 0; i < in_length;) {
        const unsigned length = in[i];
        if (i + 1 + length > in_length) {
            break;
        }
        if (std::string_view(reinterpret_cast<const char*>(in + i + 1), length) == state->alpn) {
            *out = in + i + 1;
            *out_length = static_cast<unsigned char>(length);
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + length;
    }
    ++state->counters.wrong_alpn;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

Expected<std::shared_ptr<ssl::context>> make_context(const TlsCredentials& tls,
                                                     TlsExchangeState& state) {
    if (auto usable = check_tls_credentials(tls); !usable) {
        return usable.failure();
    }
    auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
    SSL_CTX* native = context->native_handle();
    beast::error_code ec;
    context->use_certificate_chain(net::buffer(tls.certificate_chain_pem), ec);
    if (!ec) {
        context->use_private_key(net::buffer(tls.private_key_pem), ssl::context::pem, ec);
    }
    if (ec || SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION) != 1) {
        return Error{"TLS 1.3 context: " + ec.message()};
    }
    // No session tickets: each exchange is one connection, resumption saves nothing.
    SSL_CTX_set_num_tickets(native, 0);
    SSL_CTX_set_alpn_select_cb(native, select_alpn, &state);
    return context;
}

class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(TlsExchangeState& server, tcp::socket socket, const ClientKey& client,
            const SocketAddress& local)
        : server_(server),
          context_(server.tls),
          stream_(beast::tcp_stream(std::move(socket)), *context_),
          client_(client),
          local_(local) {}
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    ~Session() { unregister(); }

    void start() {
        server_.sessions.push_back({[weak = weak_from_this()] {
            if (auto self = weak.lock()) {
                ++self->server_.counters.evicted;
                self->close();
            }
        }});
        place_ = std::prev(server_.sessions.end());
        ++server_.per_client[client_];
        // One deadline for all of it: a trickle of octets does not extend it.
        beast::get_lowest_layer(stream_).expires_after(server_.limits.deadline);
        stream_.async_handshake(
            ssl::stream_base::server,
            [self = shared_from_this()](const beast::error_code& ec) { self->handshaken(ec); });
    }

    void close() {
        unregister();
        beast::error_code ignored;
        beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
        beast::get_lowest_layer(stream_).close();
    }

  private:
    void handshaken(const beast::error_code& ec) {
        if (ec) {
            ended(ec, &server_.counters.handshake_failed);
            return;
        }
        const unsigned char* selected = nullptr;
        unsigned length = 0;
        SSL_get0_alpn_selected(stream_.native_handle(), &selected, &length);
        if (length == 0) {  // the client named no protocol at all
            ++server_.counters.wrong_alpn;
            server_.counted();
            close();
            return;
        }
        read_more();
    }

    void read_more() {
        stream_.async_read_some(net::buffer(chunk_), [self = shared_from_this()](
                                                         const beast::error_code& ec,
                                                         std::size_t n) { self->on_read(ec, n); });
    }

    void on_read(const beast::error_code& ec, std::size_t n) {
        if (ec) {
            ended(ec, nullptr);
            return;
        }
        received_.insert(received_.end(), chunk_.begin(), chunk_.begin() + static_cast<long>(n));
        const SslKeyExporter exporter(stream_.native_handle());
        TlsExchangeStep step = server_.handlers.exchange(received_, exporter, local_);
        if (!step.complete) {
            if (received_.size() >= server_.limits.max_request_bytes) {
                ++server_.counters.request_too_long;
                server_.counted();
                close();
                return;
            }
            read_more();
            return;
        }
        unregister_waiting();
        answer_ = std::move(step.answer);
        net::async_write(
            stream_, net::buffer(answer_),
            [self = shared_from_this()](const beast::error_code& e, std::size_t) {
                if (e) {
                    self->ended(e, nullptr);
                    return;
                }
                ++self->server_.counters.answered;
                self->server_.counted();
                // close_notify, then close; the deadline still bounds it.
                self->stream_.async_shutdown([self](const beast::error_code&) { self->close(); });
            });
    }

    void ended(const beast::error_code& ec, std::uint64_t* counter) {
        if (ec == beast::error::timeout) {
            ++server_.counters.deadline_expired;
        } else if (counter != nullptr) {
            ++*counter;
        }
        server_.counted();
        if (ec != net::error::operation_aborted) {
            close();
        }
    }

    // No longer a candidate for eviction: its answer is on the way.
    void unregister_waiting() {
        if (waiting_) {
            waiting_ = false;
            server_.sessions.erase(place_);
        }
    }

    void unregister() {
        unregister_waiting();
        if (!counted_client_) {
            return;
        }
        counted_client_ = false;
        if (auto it = server_.per_client.find(client_); it != server_.per_client.end()) {
            if (--it->second == 0) {
                server_.per_client.erase(it);
            }
        }
    }

    TlsExchangeState& server_;
    std::shared_ptr<ssl::context> context_;  // kept while the session lives
    beast::ssl_stream<beast::tcp_stream> stream_;
    ClientKey client_;
    SocketAddress local_;
    std::list<TlsExchangeState::Waiting>::iterator place_;
    bool waiting_ = true;
    bool counted_client_ = true;
    std::array<std::uint8_t, kReadChunk> chunk_{};
    std::vector<std::uint8_t> received_;
    std::vector<std::uint8_t> answer_;
};

}  // namespace

void TlsExchangeState::accept(const std::shared_ptr<tcp::acceptor>& acceptor) {
    acceptor->async_accept(io, [this, acceptor](const beast::error_code& ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted || !acceptor->is_open()) {
            return;  // removed, or the server stops
        }
        if (ec) {  // out of descriptors, most likely: try again shortly, never spin
            auto retry = std::make_shared<net::steady_timer>(io, kAcceptRetry);
            retry->async_wait([this, acceptor, retry](const beast::error_code& e) {
                if (!e && acceptor->is_open()) {
                    accept(acceptor);
                }
            });
            return;
        }
        admit(std::move(socket));
        accept(acceptor);
    });
}

void TlsExchangeState::admit(tcp::socket socket) {
    beast::error_code ec;
    const auto endpoint = socket.remote_endpoint(ec);
    const auto peer =
        ec ? std::nullopt
           : SocketAddress::from_sockaddr(endpoint.data(), static_cast<socklen_t>(endpoint.size()));
    const auto local = local_address_of(socket.native_handle());
    ++counters.connections;
    counted();
    if (!peer || !local) {
        return;  // gone already
    }
    const ClientKey client = peer->mapped_octets();
    const auto it = per_client.find(client);
    const bool client_full =
        it != per_client.end() && it->second >= limits.max_connections_per_client;
    if (!client_full && sessions.size() >= limits.max_connections && !sessions.empty()) {
        const auto close_oldest = sessions.front().close;  // the oldest still waiting
        close_oldest();
    }
    if (client_full || sessions.size() >= limits.max_connections) {
        ++counters.over_limit;
        socket.close(ec);
        return;
    }
    std::make_shared<Session>(*this, std::move(socket), client, *local)->start();
}

TlsExchangeServer::TlsExchangeServer(std::unique_ptr<TlsExchangeState> state)
    : state_(std::move(state)) {}
TlsExchangeServer::~TlsExchangeServer() = default;

Expected<std::unique_ptr<TlsExchangeServer>> TlsExchangeServer::create(
    const TlsCredentials& tls, std::string alpn, TlsExchangeLimits limits,
    TlsExchangeHandlers handlers) {
    auto state = std::make_unique<TlsExchangeState>();
    state->alpn = std::move(alpn);
    state->limits = limits;
    state->handlers = std::move(handlers);
    auto context = make_context(tls, *state);
    if (!context) {
        return context.failure();
    }
    state->tls = std::move(context).value();
    return std::unique_ptr<TlsExchangeServer>(new TlsExchangeServer(std::move(state)));
}

Expected<TlsListenerId> TlsExchangeServer::add_listener(UniqueFd listener) {
    const auto local = local_address_of(listener.get());
    if (!local) {
        return os_error("the listening socket");
    }
    auto acceptor = std::make_shared<tcp::acceptor>(state_->io);
    beast::error_code ec;
    acceptor->assign(local->is_ipv6() ? tcp::v6() : tcp::v4(), listener.get(), ec);
    if (ec) {
        return Error{"cannot use the listening socket: " + ec.message()};
    }
    (void)listener.release();  // the acceptor owns it now
    const TlsListenerId id = next_listener_++;
    net::post(state_->io, [state = state_.get(), id, acceptor = std::move(acceptor)] {
        state->acceptors.emplace(id, acceptor);
        state->accept(acceptor);
    });
    return id;
}

void TlsExchangeServer::remove_listener(TlsListenerId id) {
    net::post(state_->io, [state = state_.get(), id] {
        const auto it = state->acceptors.find(id);
        if (it != state->acceptors.end()) {
            beast::error_code ec;
            it->second->close(ec);  // its pending accept ends with operation_aborted
            state->acceptors.erase(it);
        }
    });
}

Status TlsExchangeServer::set_credentials(const TlsCredentials& tls) {
    auto context = make_context(tls, *state_);
    if (!context) {
        return context.failure();
    }
    net::post(state_->io, [state = state_.get(), c = std::move(context).value()]() mutable {
        state->tls = std::move(c);
    });
    return Done{};
}

void TlsExchangeServer::run() {
    // Kept running while no listener has come yet.
    auto guard = net::make_work_guard(state_->io);
    state_->io.run();
}

void TlsExchangeServer::stop() {
    state_->io.stop();
}

}  // namespace cloudtime::sys
