// SPDX-License-Identifier: Apache-2.0
#include "tls/tls_exchange_server.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <list>
#include <map>
#include <mutex>

#include "net/socket_address.hpp"
#include "net/throttled_report.hpp"
#include "sys/memory.hpp"

namespace cloudtime::sys {

namespace {
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using ClientKey = std::array<std::uint8_t, 16>;

constexpr auto kCountersEvery = std::chrono::milliseconds(100);
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);
constexpr std::size_t kReadChunk = 512;
// After close_notify and FIN, how long the client may take to close its side: closing with its
// octets still unread would send it a reset, which may cost it the answer.
constexpr auto kLinger = std::chrono::seconds(1);
// After a crowd of connections, the freed memory of their TLS sessions goes back to the system
// once none is open.
constexpr std::size_t kTrimAfterOpen = 64;

struct SslFree {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

class Session;
}  // namespace

struct TlsExchangeState {
    // What sessions touch when they end: declared before `io`, so that it outlives the
    // handlers (holding sessions) that `io` destroys when it goes.
    std::string alpn;
    TlsExchangeLimits limits;
    TlsExchangeHandlers handlers;
    TlsExchangeCounters counters;
    std::shared_ptr<ssl::context> tls;
    // Every connection until its socket is closed, oldest first, in two lists: those still
    // waiting for their answer, and those whose answer is on its way or sent. At the limit a
    // finishing one is closed first (its client has what it asked for), else the oldest waiting.
    std::list<Session*> waiting;
    std::list<Session*> finishing;
    std::map<ClientKey, std::size_t> per_client;
    std::size_t open_high_water = 0;  // since the memory was last given back

    net::io_context io{1};
    // I/O objects: declared after `io`, so that they go before it.
    // By id; a pending accept or retry holds its acceptor, so removing one only closes it.
    std::map<TlsListenerId, std::shared_ptr<tcp::acceptor>> acceptors;
    // A flood of connections makes at most 10 reports a second.
    ThrottledReport reports{io, kCountersEvery, [this] {
                                if (handlers.counters_changed) {
                                    counters.open = open();
                                    handlers.counters_changed(counters);
                                }
                            }};

    std::size_t open() const { return waiting.size() + finishing.size(); }
    void counted() { reports.changed(); }
    void closed();
    void accept(const std::shared_ptr<tcp::acceptor>& acceptor);
    void admit(tcp::socket socket);
    void make_room();
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
    error_code ec;
    context->use_certificate_chain(net::buffer(tls.certificate_chain_pem), ec);
    if (!ec) {
        context->use_private_key(net::buffer(tls.private_key_pem), ssl::context::pem, ec);
    }
    if (ec || SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION) != 1) {
        return Error{"TLS 1.3 context: " + ec.message()};
    }
    // No session tickets: each exchange is one connection, resumption saves nothing.
    SSL_CTX_set_num_tickets(native, 0);
    // A connection waiting for its client holds no record buffers (about 34 KiB).
    SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_alpn_select_cb(native, select_alpn, &state);
    return context;
}

// One connection: OpenSSL on the socket itself (no buffers in between: a connection costs its
// TLS session, a few KiB once the handshake is over), driven by the socket's readiness.
class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(TlsExchangeState& server, tcp::socket socket, SslPtr ssl, const ClientKey& client,
            const SocketAddress& local)
        : server_(server),
          context_(server.tls),
          socket_(std::move(socket)),
          ssl_(std::move(ssl)),
          deadline_(server.io),
          client_(client),
          local_(local) {}
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    ~Session() { unregister(); }

    void start() {
        server_.waiting.push_back(this);
        place_ = std::prev(server_.waiting.end());
        ++server_.per_client[client_];
        server_.open_high_water = std::max(server_.open_high_water, server_.open());
        // One deadline for all of it, from accept to the client's close: a trickle of octets
        // does not extend it.
        deadline_.expires_after(server_.limits.deadline);
        deadline_.async_wait([self = shared_from_this()](const error_code& ec) {
            if (!ec) {
                self->expired();
            }
        });
        drive();
    }

    // Closed to make room for a new connection.
    void evict() {
        ++server_.counters.evicted;
        server_.counted();
        close();
    }

  private:
    enum class Phase { handshake, reading, writing, shutting_down, lingering };

    // Does what the connection's phase asks until it must wait for the socket.
    void drive() {
        for (;;) {
            ERR_clear_error();  // SSL_get_error reads this thread's queue
            switch (phase_) {
                case Phase::handshake: {
                    const int r = SSL_do_handshake(ssl_.get());
                    if (r != 1) {
                        return wait_or_end(r, &server_.counters.handshake_failed);
                    }
                    const unsigned char* selected = nullptr;
                    unsigned length = 0;
                    SSL_get0_alpn_selected(ssl_.get(), &selected, &length);
                    if (length == 0) {  // the client named no protocol at all
                        ++server_.counters.wrong_alpn;
                        return end();
                    }
                    phase_ = Phase::reading;
                    break;
                }
                case Phase::reading: {
                    std::size_t n = 0;
                    const int r = SSL_read_ex(ssl_.get(), chunk_.data(), chunk_.size(), &n);
                    if (r != 1) {
                        return wait_or_end(r, nullptr);
                    }
                    if (!received(n)) {
                        return;
                    }
                    break;
                }
                case Phase::writing: {
                    std::size_t n = 0;
                    const int r = SSL_write_ex(ssl_.get(), answer_.data(), answer_.size(), &n);
                    if (r != 1) {
                        return wait_or_end(r, nullptr);
                    }
                    ++server_.counters.answered;
                    server_.counted();
                    answer_ = {};
                    phase_ = Phase::shutting_down;
                    break;
                }
                case Phase::shutting_down: {
                    // Our close_notify; the client's is not waited for (it may never come).
                    const int r = SSL_shutdown(ssl_.get());
                    if (r < 0) {
                        return wait_or_end(r, nullptr);
                    }
                    error_code ignored;
                    socket_.shutdown(tcp::socket::shutdown_send, ignored);
                    ssl_.reset();  // what remains is a socket to drain
                    phase_ = Phase::lingering;
                    // A second for the client's close, within what is left of the deadline.
                    if (deadline_.expiry() - net::steady_timer::clock_type::now() > kLinger) {
                        deadline_.expires_after(kLinger);
                        deadline_.async_wait([self = shared_from_this()](const error_code& ec) {
                            if (!ec) {
                                self->expired();
                            }
                        });
                    }
                    break;
                }
                case Phase::lingering: {
                    error_code ec;
                    socket_.read_some(net::buffer(chunk_), ec);
                    if (ec == net::error::would_block) {
                        return wait(tcp::socket::wait_read);
                    }
                    if (ec) {
                        return close();  // the client closed its side (or reset): done
                    }
                    break;
                }
            }
        }
    }

    // The octets of a read; false when the connection ended or must wait.
    bool received(std::size_t n) {
        received_.insert(received_.end(), chunk_.begin(), chunk_.begin() + static_cast<long>(n));
        const SslKeyExporter exporter(ssl_.get());
        TlsExchangeStep step = server_.handlers.exchange(received_, exporter, local_);
        if (!step.complete) {
            if (received_.size() >= server_.limits.max_request_bytes) {
                ++server_.counters.request_too_long;
                end();
                return false;
            }
            return true;  // OpenSSL may hold more octets already: read again
        }
        received_ = {};
        answer_ = std::move(step.answer);
        // No longer waiting: its answer is on the way.
        server_.waiting.erase(place_);
        server_.finishing.push_back(this);
        place_ = std::prev(server_.finishing.end());
        phase_ = Phase::writing;
        return true;
    }

    // After an OpenSSL call that did not finish: waits for the socket when it asks to, else
    // ends the connection, counting it under `failure` if given.
    void wait_or_end(int result, std::uint64_t* failure) {
        switch (SSL_get_error(ssl_.get(), result)) {
            case SSL_ERROR_WANT_READ:
                return wait(tcp::socket::wait_read);
            case SSL_ERROR_WANT_WRITE:
                return wait(tcp::socket::wait_write);
            default:
                if (failure != nullptr) {
                    ++*failure;
                }
                return end();
        }
    }

    void wait(tcp::socket::wait_type what) {
        if (what == tcp::socket::wait_read && phase_ != Phase::lingering) {
            // Acknowledge what comes next at once: a client with Nagle's algorithm on (most)
            // holds its request back until its Finished is acknowledged, and a delayed ACK
            // would cost it 40 ms.
            const int on = 1;
            (void)::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
        }
        socket_.async_wait(what, [self = shared_from_this()](const error_code& ec) {
            if (!ec && self->socket_.is_open()) {
                self->drive();
            }
        });
    }

    void expired() {
        if (phase_ != Phase::lingering) {  // lingering ends at its time: nothing went wrong
            ++server_.counters.deadline_expired;
        }
        end();
    }

    void end() {
        server_.counted();
        close();
    }

    void close() {
        if (!socket_.is_open()) {
            return;
        }
        error_code ignored;
        deadline_.cancel();
        socket_.close(ignored);  // pending waits end with operation_aborted
        ssl_.reset();
        unregister();
        server_.closed();
    }

    void unregister() {
        if (registered_) {
            registered_ = false;
            (phase_ == Phase::handshake || phase_ == Phase::reading ? server_.waiting
                                                                    : server_.finishing)
                .erase(place_);
            if (auto it = server_.per_client.find(client_); it != server_.per_client.end()) {
                if (--it->second == 0) {
                    server_.per_client.erase(it);
                }
            }
        }
    }

    TlsExchangeState& server_;
    std::shared_ptr<ssl::context> context_;  // kept while the session lives
    tcp::socket socket_;
    SslPtr ssl_;
    net::steady_timer deadline_;
    ClientKey client_;
    SocketAddress local_;
    Phase phase_ = Phase::handshake;
    std::list<Session*>::iterator place_;
    bool registered_ = true;
    std::array<std::uint8_t, kReadChunk> chunk_{};
    std::vector<std::uint8_t> received_;
    std::vector<std::uint8_t> answer_;
};

}  // namespace

void TlsExchangeState::closed() {
    counted();
    if (open() == 0 && open_high_water >= kTrimAfterOpen) {
        open_high_water = 0;
        release_free_memory();
    }
}

void TlsExchangeState::accept(const std::shared_ptr<tcp::acceptor>& acceptor) {
    acceptor->async_accept(io, [this, acceptor](const error_code& ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted || !acceptor->is_open()) {
            return;  // removed, or the server stops
        }
        if (ec) {  // out of descriptors, most likely: try again shortly, never spin
            auto retry = std::make_shared<net::steady_timer>(io, kAcceptRetry);
            retry->async_wait([this, acceptor, retry](const error_code& e) {
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

void TlsExchangeState::make_room() {
    auto& from = finishing.empty() ? waiting : finishing;
    if (!from.empty()) {
        from.front()->evict();
    }
}

void TlsExchangeState::admit(tcp::socket socket) {
    error_code ec;
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
    if (!client_full && open() >= limits.max_connections) {
        make_room();
    }
    SslPtr ssl(client_full || open() >= limits.max_connections ? nullptr
                                                               : SSL_new(tls->native_handle()));
    socket.non_blocking(true, ec);
    if (!ec) {
        socket.set_option(tcp::no_delay(true), ec);  // the answer, then close_notify at once
    }
    if (!ssl || ec || SSL_set_fd(ssl.get(), socket.native_handle()) != 1) {
        ++counters.over_limit;
        socket.close(ec);
        return;
    }
    SSL_set_accept_state(ssl.get());
    std::make_shared<Session>(*this, std::move(socket), std::move(ssl), client, *local)->start();
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
    error_code ec;
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
            error_code ec;
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
