// SPDX-License-Identifier: Apache-2.0

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <mutex>
#include <thread>

#include "net/socket_address.hpp"
#include "net/tcp_listen.hpp"
#include "test_certificate.hpp"
#include "tls/tls_exchange_server.hpp"

namespace cloudtime::sys {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

// Answers "ok:" + the exporter's first 4 octets once it has read a line ending in '\n'.
class Served {
  public:
    explicit Served(TlsExchangeLimits limits = {}) {
        TlsExchangeHandlers handlers;
        handlers.exchange = [](std::span<const std::uint8_t> received,
                               const TlsKeyExporter& exporter, const SocketAddress& local) {
            EXPECT_EQ(local.to_string().substr(0, 10), "127.0.0.1:");
            TlsExchangeStep step;
            if (received.empty() || received.back() != '\n') {
                return step;
            }
            std::array<std::uint8_t, 4> key{};
            const std::array<std::uint8_t, 1> context{1};
            EXPECT_TRUE(exporter.export_keys("EXPORTER-test", context, key));
            step.complete = true;
            step.answer = {'o', 'k', ':', key[0], key[1], key[2], key[3]};
            return step;
        };
        handlers.counters_changed = [this](const TlsExchangeCounters& c) {
            const std::lock_guard lock(mutex_);
            counters_ = c;
        };
        auto server =
            TlsExchangeServer::create(credentials_, "ntske/1", limits, std::move(handlers));
        EXPECT_TRUE(server) << server.error();
        server_ = std::move(server).value();
        auto listener = listen_tcp(*parse_socket_address("127.0.0.1:0", 0), 16);
        EXPECT_TRUE(listener);
        port_ = local_address_of(listener->get())->port();
        EXPECT_TRUE(server_->add_listener(std::move(listener).value()));
        thread_ = std::thread([this] { server_->run(); });
    }
    ~Served() {
        server_->stop();
        thread_.join();
    }
    Served(const Served&) = delete;
    Served& operator=(const Served&) = delete;

    std::uint16_t port() const { return port_; }
    TlsExchangeCounters counters() {
        std::this_thread::sleep_for(std::chrono::milliseconds(150));  // reports come every 100 ms
        const std::lock_guard lock(mutex_);
        return counters_;
    }
    TlsExchangeServer& server() { return *server_; }

  private:
    TlsCredentials credentials_ = testing::make_test_certificate();
    std::unique_ptr<TlsExchangeServer> server_;
    std::uint16_t port_ = 0;
    std::thread thread_;
    std::mutex mutex_;
    TlsExchangeCounters counters_;
};

struct ClientOptions {
    int max_version = TLS1_3_VERSION;
    std::string alpn = "ntske/1";  // empty: none offered
};

// Connects, sends `request`, returns what came back ("" when the handshake failed).
std::string exchange(std::uint16_t port, const std::string& request, const ClientOptions& o = {}) {
    net::io_context io;
    ssl::context context(ssl::context::tls_client);
    SSL_CTX_set_max_proto_version(context.native_handle(), o.max_version);
    context.set_verify_mode(ssl::verify_none);
    ssl::stream<tcp::socket> stream(io, context);
    if (!o.alpn.empty()) {
        std::vector<unsigned char> protos{static_cast<unsigned char>(o.alpn.size())};
        protos.insert(protos.end(), o.alpn.begin(), o.alpn.end());
        SSL_set_alpn_protos(stream.native_handle(), protos.data(),
                            static_cast<unsigned>(protos.size()));
    }
    boost::system::error_code ec;
    stream.lowest_layer().connect({net::ip::make_address("127.0.0.1"), port}, ec);
    if (ec) {
        return "connect failed";
    }
    stream.handshake(ssl::stream_base::client, ec);
    if (ec) {
        return "";
    }
    net::write(stream, net::buffer(request), ec);
    std::string answer;
    std::array<char, 256> chunk{};
    for (;;) {
        const std::size_t n = stream.read_some(net::buffer(chunk), ec);
        answer.append(chunk.data(), n);
        if (ec) {
            break;
        }
    }
    return answer;
}

// A client that completes TLS, sends its request and then neither reads nor closes.
class KeptClient {
  public:
    KeptClient(std::uint16_t port, const std::string& request) : stream_(io_, context_) {
        context_.set_verify_mode(ssl::verify_none);
        const std::array<unsigned char, 8> alpn{7, 'n', 't', 's', 'k', 'e', '/', '1'};
        SSL_set_alpn_protos(stream_.native_handle(), alpn.data(), alpn.size());
        stream_.lowest_layer().connect({net::ip::make_address("127.0.0.1"), port});
        stream_.handshake(ssl::stream_base::client);
        net::write(stream_, net::buffer(request));
    }
    // Whether the server has closed its side (its FIN arrived) within `wait`.
    bool closed_by_server(std::chrono::milliseconds wait) {
        auto& socket = stream_.next_layer();
        socket.non_blocking(true);
        std::array<char, 4096> chunk{};
        const auto until = std::chrono::steady_clock::now() + wait;
        for (;;) {
            boost::system::error_code ec;
            const std::size_t n = socket.read_some(net::buffer(chunk), ec);
            if ((!ec && n == 0) || (ec && ec != net::error::would_block)) {
                return true;
            }
            if (ec && std::chrono::steady_clock::now() > until) {
                return false;
            }
            if (ec) {
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
        }
    }

  private:
    net::io_context io_;
    ssl::context context_{ssl::context::tls_client};
    ssl::stream<tcp::socket> stream_;
};

TEST(TlsExchangeServer, AnswersOneRequestPerConnectionWithExportedKeys) {
    Served served({.max_connections = 1000,
                   .max_connections_per_client = 16,
                   .deadline = std::chrono::milliseconds(500),  // the unfinished one ends there
                   .max_request_bytes = 1024});
    const std::string first = exchange(served.port(), "hello\n");
    ASSERT_EQ(first.substr(0, 3), "ok:");
    EXPECT_EQ(first.size(), 7U);
    // Another session, other keys.
    EXPECT_EQ(exchange(served.port(), "hel"), "");  // never finished: nothing comes back
    const std::string second = exchange(served.port(), "hello\n");
    EXPECT_EQ(second.substr(0, 3), "ok:");
    EXPECT_NE(first, second);
    const auto counters = served.counters();
    EXPECT_EQ(counters.answered, 2U);
    EXPECT_EQ(counters.connections, 3U);
}

TEST(TlsExchangeServer, ListenersComeAndGoWhileItServes) {
    Served served;
    auto listener = listen_tcp(*parse_socket_address("127.0.0.1:0", 0), 16);
    ASSERT_TRUE(listener);
    const std::uint16_t port = local_address_of(listener->get())->port();
    const auto id = served.server().add_listener(std::move(listener).value());
    ASSERT_TRUE(id) << id.error();
    EXPECT_EQ(exchange(port, "x\n").substr(0, 3), "ok:");
    served.server().remove_listener(*id);
    // Closed on the server's thread: refused from then on (the port is free again).
    std::string after;
    for (int i = 0; i < 100 && after != "connect failed"; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        after = exchange(port, "x\n");
    }
    EXPECT_EQ(after, "connect failed");
    served.server().remove_listener(*id);                           // twice: nothing happens
    EXPECT_EQ(exchange(served.port(), "x\n").substr(0, 3), "ok:");  // the other serves on
}

TEST(TlsExchangeServer, RefusesTls12AndWrongOrMissingAlpn) {
    Served served;
    EXPECT_EQ(exchange(served.port(), "x\n", {TLS1_2_VERSION, "ntske/1"}), "");
    EXPECT_EQ(exchange(served.port(), "x\n", {TLS1_3_VERSION, "http/1.1"}), "");
    EXPECT_NE(exchange(served.port(), "x\n", {TLS1_3_VERSION, ""}).substr(0, 3), "ok:");
    EXPECT_EQ(exchange(served.port(), "x\n").substr(0, 3), "ok:");  // still serving
    const auto counters = served.counters();
    EXPECT_EQ(counters.handshake_failed, 2U);  // TLS 1.2; the ALPN alert fails the handshake
    EXPECT_EQ(counters.wrong_alpn, 2U);        // the wrong one and none
    EXPECT_EQ(counters.answered, 1U);
}

TEST(TlsExchangeServer, SlowAndOversizedClientsAreCut) {
    Served served({.max_connections = 1000,
                   .max_connections_per_client = 16,
                   .deadline = std::chrono::milliseconds(300),
                   .max_request_bytes = 64});
    // A client that connects and says nothing: closed at the deadline.
    net::io_context io;
    tcp::socket silent(io);
    silent.connect({net::ip::make_address("127.0.0.1"), served.port()});
    std::array<char, 16> buffer{};
    boost::system::error_code ec;
    const auto start = std::chrono::steady_clock::now();
    (void)silent.read_some(net::buffer(buffer), ec);
    EXPECT_TRUE(ec);  // closed by the server
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
    // A request that never ends within 64 octets.
    EXPECT_NE(exchange(served.port(), std::string(200, 'a')).substr(0, 3), "ok:");
    EXPECT_EQ(exchange(served.port(), "x\n").substr(0, 3), "ok:");
    const auto counters = served.counters();
    EXPECT_EQ(counters.deadline_expired, 1U);
    EXPECT_EQ(counters.request_too_long, 1U);
}

TEST(TlsExchangeServer, PerClientLimitAndNewCredentials) {
    Served served({.max_connections = 1000,
                   .max_connections_per_client = 2,
                   .deadline = std::chrono::milliseconds(2000),
                   .max_request_bytes = 64});
    net::io_context io;
    tcp::socket a(io);
    tcp::socket b(io);
    a.connect({net::ip::make_address("127.0.0.1"), served.port()});
    b.connect({net::ip::make_address("127.0.0.1"), served.port()});
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_NE(exchange(served.port(), "x\n").substr(0, 3), "ok:");  // a third from 127.0.0.1
    a.close();
    b.close();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_TRUE(served.server().set_credentials(testing::make_test_certificate()));
    EXPECT_FALSE(served.server().set_credentials({"not a certificate", "nor a key"}));
    EXPECT_EQ(exchange(served.port(), "x\n").substr(0, 3), "ok:");
    EXPECT_GE(served.counters().over_limit, 1U);
}

// A connection counts until its socket is closed, its answer sent or not: clients that take
// their answer and never close cannot hold more than the limit. At the limit, one of them goes
// first (its client has what it asked for), not the oldest still waiting.
TEST(TlsExchangeServer, AnsweredConnectionsCountUntilClosedAndGoFirst) {
    Served served({.max_connections = 3,
                   .max_connections_per_client = 100,
                   .deadline = std::chrono::milliseconds(5000),
                   .max_request_bytes = 64});
    net::io_context io;
    tcp::socket waiting(io);  // connected, says nothing: waits for its handshake
    waiting.connect({net::ip::make_address("127.0.0.1"), served.port()});
    KeptClient first(served.port(), "x\n");
    KeptClient second(served.port(), "x\n");
    auto counters = served.counters();
    EXPECT_EQ(counters.answered, 2U);
    EXPECT_EQ(counters.open, 3U);  // answered and kept open by their clients: still counted
    // A fourth: the oldest answered one makes room.
    EXPECT_EQ(exchange(served.port(), "x\n").substr(0, 3), "ok:");
    EXPECT_TRUE(first.closed_by_server(std::chrono::milliseconds(0)));
    counters = served.counters();
    EXPECT_EQ(counters.evicted, 1U);
    EXPECT_LE(counters.open, 3U);
    waiting.non_blocking(true);
    std::array<char, 16> buffer{};
    boost::system::error_code ec;
    (void)waiting.read_some(net::buffer(buffer), ec);
    EXPECT_EQ(ec, net::error::would_block);  // the waiting one is still open
    // An answered client that never closes is let go a second after its answer (not at the
    // 5 s deadline).
    EXPECT_TRUE(second.closed_by_server(std::chrono::milliseconds(2000)));
}

}  // namespace
}  // namespace cloudtime::sys
