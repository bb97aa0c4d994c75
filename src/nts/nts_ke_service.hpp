// SPDX-License-Identifier: Apache-2.0
// NTS Key Establishment (RFC 8915 section 4) on its own thread: TLS 1.3 with ALPN ntske/1
// (sys/tls_exchange_server), the request read strictly (proto/nts_ke), the client's keys
// exported from the TLS session and sealed into eight cookies under the current master key.
// The thread holds no privilege the NTP workers do not: it is one of theirs.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "net/socket_address.hpp"
#include "proto/nts_cookie.hpp"
#include "proto/nts_ke.hpp"
#include "tls/tls_exchange_server.hpp"
#include "util/expected.hpp"
#include "util/line_budget.hpp"

namespace cloudtime::server {

inline constexpr std::size_t kCookiesPerKe = 8;

struct NtsKeCounters {
    sys::TlsExchangeCounters tls;
    std::uint64_t established = 0;   // answered with cookies
    std::uint64_t no_agreement = 0;  // answered without: no NTPv4 or AES-SIV offered
    std::array<std::uint64_t, proto::kKeRequestProblemCount> refused{};  // by problem
    std::uint64_t internal_errors = 0;
};

class NtsKeService {
  public:
    static Expected<std::unique_ptr<NtsKeService>> create(const sys::TlsCredentials& tls,
                                                          const sys::TlsExchangeLimits& limits);
    ~NtsKeService();
    NtsKeService(const NtsKeService&) = delete;
    NtsKeService& operator=(const NtsKeService&) = delete;

    // Serves key establishment on `ke` for the NTP server at `ntp` (its port goes in the
    // answer when it is not 123).
    Status listen(const sys::SocketAddress& ke, const sys::SocketAddress& ntp);
    // Serves key establishment on a listening socket made elsewhere (inside a tenant
    // network), for the NTP server on `ntp_port` at the same address; from any thread.
    Expected<sys::TlsListenerId> adopt(sys::UniqueFd listener, std::uint16_t ntp_port);
    void close(sys::TlsListenerId id);  // from any thread
    void set_keyring(std::shared_ptr<const proto::CookieKeyring> ring);
    Status set_credentials(const sys::TlsCredentials& tls);

    void start();
    void stop();
    NtsKeCounters counters() const;

  private:
    NtsKeService() = default;
    sys::TlsExchangeStep exchange(std::span<const std::uint8_t> received,
                                  const sys::TlsKeyExporter& exporter,
                                  const sys::SocketAddress& local);

    std::unique_ptr<sys::TlsExchangeServer> server_;
    std::thread thread_;
    mutable std::mutex mutex_;  // guards what other threads read or set
    std::shared_ptr<const proto::CookieKeyring> ring_;
    NtsKeCounters counters_;
    struct Listener {
        sys::TlsListenerId id = 0;
        sys::SocketAddress address;  // where key establishment is served
        std::uint16_t ntp_port = 0;  // the NTP server's port at that address
    };
    std::vector<Listener> listeners_;
    proto::AesSiv siv_;  // the service thread's own
    // The service thread's own: what the last warning about the limits counted.
    void warn_when_full(const sys::TlsExchangeCounters& c, const sys::TlsExchangeLimits& limits);
    LineBudget full_report_{1, std::chrono::minutes(1)};
    std::uint64_t evicted_told_ = 0;
    std::uint64_t over_limit_told_ = 0;
};

}  // namespace cloudtime::server
