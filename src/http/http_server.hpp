// SPDX-License-Identifier: Apache-2.0
// An HTTP/1.1 server made for hostile clients (Boost.Beast on one Asio thread, TLS through
// OpenSSL): every connection is bounded in time (an absolute deadline per request, not reset
// by trickled bytes), in memory (header bytes and fields, body whatever its transfer coding)
// and in number (in total and per client; at the total, a connection waiting for a request is
// closed to make room, one never answered before one kept alive between requests, from the
// address holding the most, the longest waiting). Ambiguous framing is refused with 400,
// pipelined requests are answered in order, nothing but the handler's answer is ever sent (no
// Range, no directory, no file). The application sees complete requests only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "http/http_request.hpp"
#include "net/socket_address.hpp"
#include "sys/fd.hpp"
#include "tls/tls_credentials.hpp"
#include "util/expected.hpp"

namespace cloudtime::sys {

// What the server did on its own, without the application's handler.
struct HttpServerCounters {
    std::uint64_t connections = 0;           // accepted
    std::uint64_t over_client_limit = 0;     // closed at once: the client had too many
    std::uint64_t evicted = 0;               // closed to make room at the total limit
    std::uint64_t deadline_expired = 0;      // closed when a request took too long
    std::uint64_t malformed = 0;             // answered 400/413/431 by the server itself
    std::uint64_t not_allowed = 0;           // answered 403 at once (the client filter said no)
    std::map<int, std::uint64_t> responses;  // by status code, the server's own included
    std::size_t open = 0;                    // connections open now
};

struct HttpHandlers {
    std::function<HttpResponse(const HttpRequest&)> answer;
    // The server's own refusals (400, 403, 413, 431) in the application's format.
    std::function<HttpResponse(int status, const std::string& why)> error;
    // Whether a client may talk at all; one that may not gets 403 before anything is read.
    std::function<bool(const SocketAddress&)> allowed;
    // Called on the server's thread after anything counted changed, at most every 100 ms.
    std::function<void(const HttpServerCounters&)> counters_changed;
};

struct HttpServerState;

class HttpServer {
  public:
    // Serves on `listener` (a bound, listening TCP socket); with credentials, HTTPS only (TLS
    // 1.2 or newer). Fails when the certificate or key is unusable or not a pair.
    static Expected<std::unique_ptr<HttpServer>> create(UniqueFd listener, HttpLimits limits,
                                                        std::optional<TlsCredentials> tls,
                                                        HttpHandlers handlers);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Serves on this thread until stop() or one of `stop_signals` arrives (the server installs
    // their handlers; they must not be blocked).
    void run(const std::vector<int>& stop_signals = {});
    void stop();  // from any thread

  private:
    explicit HttpServer(std::unique_ptr<HttpServerState> state);
    std::unique_ptr<HttpServerState> state_;
};

}  // namespace cloudtime::sys
