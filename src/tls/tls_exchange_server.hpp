// SPDX-License-Identifier: Apache-2.0
// A server for one request and one answer per TLS 1.3 connection (NTS-KE, RFC 8915 section
// 4): OpenSSL on each socket, driven by Boost.Asio's readiness on one thread. TLS 1.3 only; the
// client must name the one ALPN protocol served (no ALPN, or another, is refused with the TLS
// alert RFC 7301 asks for). Every connection is bounded: an absolute deadline from accept to
// the answer (a slow handshake or a trickled request ends there), a cap on the octets read, a
// total and a per-client number of connections, each counted until its socket is closed. After
// the answer and close_notify the client has a second to close its side. At the total, an
// answered connection is closed to make room, else the oldest one still waiting.
// The application sees the octets received so far and the TLS session's key exporter only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/socket_address.hpp"
#include "sys/fd.hpp"
#include "tls/tls_credentials.hpp"
#include "tls/tls_key_exporter.hpp"
#include "util/expected.hpp"

namespace cloudtime::sys {

struct TlsExchangeLimits {
    std::size_t max_connections = 1000;
    std::size_t max_connections_per_client = 16;
    std::chrono::milliseconds deadline{5000};  // accept to answer sent (and the close after)
    std::size_t max_request_bytes = 1024;
};

struct TlsExchangeCounters {
    std::uint64_t connections = 0;       // accepted
    std::uint64_t over_limit = 0;        // closed at once: total or per-client limit
    std::uint64_t evicted = 0;           // closed to make room at the total limit
    std::uint64_t deadline_expired = 0;  // handshake or request too slow
    std::uint64_t handshake_failed = 0;  // TLS below 1.3, no common cipher, garbage
    std::uint64_t wrong_alpn = 0;        // no ALPN or not the one served
    std::uint64_t request_too_long = 0;  // more octets than max_request_bytes, unfinished
    std::uint64_t answered = 0;          // the application's answer sent
    std::size_t open = 0;                // connections open now, answered or not
};

// What the application makes of the octets received so far.
struct TlsExchangeStep {
    bool complete = false;             // false: read more
    std::vector<std::uint8_t> answer;  // when complete: sent, then the connection closes
};

struct TlsExchangeHandlers {
    // `local` is the address the client connected to (which listener).
    std::function<TlsExchangeStep(std::span<const std::uint8_t> received,
                                  const TlsKeyExporter& exporter, const SocketAddress& local)>
        exchange;
    // Called on the server's thread when counters changed, at most every 100 ms.
    std::function<void(const TlsExchangeCounters&)> counters_changed;
};

struct TlsExchangeState;
using TlsListenerId = std::uint64_t;

class TlsExchangeServer {
  public:
    // Fails when the certificate or key is unusable or not a pair.
    static Expected<std::unique_ptr<TlsExchangeServer>> create(const TlsCredentials& tls,
                                                               std::string alpn,
                                                               TlsExchangeLimits limits,
                                                               TlsExchangeHandlers handlers);
    ~TlsExchangeServer();
    TlsExchangeServer(const TlsExchangeServer&) = delete;
    TlsExchangeServer& operator=(const TlsExchangeServer&) = delete;

    // A listening TCP socket to accept on (from any thread, before or while it runs).
    Expected<TlsListenerId> add_listener(UniqueFd listener);
    // Closes that listener (from any thread): connections it accepted finish as they would.
    void remove_listener(TlsListenerId id);
    // New credentials for the connections that come from now on (from any thread). Fails,
    // changing nothing, when they are unusable.
    Status set_credentials(const TlsCredentials& tls);

    void run();   // serves on this thread until stop()
    void stop();  // from any thread

  private:
    explicit TlsExchangeServer(std::unique_ptr<TlsExchangeState> state);
    std::unique_ptr<TlsExchangeState> state_;
    std::atomic<TlsListenerId> next_listener_{1};
};

}  // namespace cloudtime::sys
