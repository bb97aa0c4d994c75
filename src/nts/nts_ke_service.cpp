// SPDX-License-Identifier: Apache-2.0
#include "nts/nts_ke_service.hpp"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>

#include "net/tcp_listen.hpp"

namespace cloudtime::server {

static_assert(static_cast<std::size_t>(proto::KeRequestProblem::server_or_port_malformed) + 1 ==
              proto::kKeRequestProblemCount);

namespace {

constexpr std::string_view kAlpn = "ntske/1";
constexpr std::uint16_t kDefaultNtpPort = 123;
constexpr int kListenBacklog = 128;

bool export_keys(const sys::TlsKeyExporter& exporter, proto::NtsKeys& keys) {
    return exporter.export_keys(proto::kNtsExporterLabel, proto::nts_exporter_context(false),
                                keys.c2s) &&
           exporter.export_keys(proto::kNtsExporterLabel, proto::nts_exporter_context(true),
                                keys.s2c);
}

}  // namespace

Expected<std::unique_ptr<NtsKeService>> NtsKeService::create(const sys::TlsCredentials& tls,
                                                             const sys::TlsExchangeLimits& limits) {
    std::unique_ptr<NtsKeService> service(new NtsKeService());
    if (!service->siv_.available()) {
        return Error{"OpenSSL offers no AES-128-SIV (AEAD_AES_SIV_CMAC_256)"};
    }
    sys::TlsExchangeHandlers handlers;
    NtsKeService* raw = service.get();
    handlers.exchange =
        [raw](std::span<const std::uint8_t> received, const sys::TlsKeyExporter& exporter,
              const sys::SocketAddress& local) { return raw->exchange(received, exporter, local); };
    handlers.counters_changed = [raw, limits](const sys::TlsExchangeCounters& c) {
        raw->warn_when_full(c, limits);
        const std::lock_guard lock(raw->mutex_);
        raw->counters_.tls = c;
    };
    sys::TlsExchangeLimits bounded = limits;
    bounded.max_request_bytes = proto::kMaxKeRequestLength;
    auto server =
        sys::TlsExchangeServer::create(tls, std::string(kAlpn), bounded, std::move(handlers));
    if (!server) {
        return Error{"NTS-KE: " + server.error()};
    }
    service->server_ = std::move(server).value();
    return service;
}

// Connections closed or refused at the limits are an attack or a limit too low: said with
// numbers, at most once a minute.
void NtsKeService::warn_when_full(const sys::TlsExchangeCounters& c,
                                  const sys::TlsExchangeLimits& limits) {
    if ((c.evicted == evicted_told_ && c.over_limit == over_limit_told_) ||
        !full_report_.take(LineBudget::Clock::now())) {
        return;
    }
    spdlog::warn(
        "NTS-KE: {} connections closed to make room at max_connections ({}) and {} refused at "
        "max_connections_per_client ({}) since the last report; {} open now",
        c.evicted - evicted_told_, limits.max_connections, c.over_limit - over_limit_told_,
        limits.max_connections_per_client, c.open);
    evicted_told_ = c.evicted;
    over_limit_told_ = c.over_limit;
}

NtsKeService::~NtsKeService() {
    stop();
}

Status NtsKeService::listen(const sys::SocketAddress& ke, const sys::SocketAddress& ntp) {
    auto listener = sys::listen_tcp(ke, kListenBacklog);
    if (!listener) {
        return Error{"NTS-KE on " + ke.to_string() + ": " + listener.error(),
                     listener.error_code()};
    }
    auto adopted = adopt(std::move(listener).value(), ntp.port());
    if (!adopted) {
        return adopted.failure();
    }
    return Done{};
}

Expected<sys::TlsListenerId> NtsKeService::adopt(sys::UniqueFd listener, std::uint16_t ntp_port) {
    const auto bound = sys::local_address_of(listener.get());
    if (!bound) {
        return Error{std::string("NTS-KE: the listening socket: ") + std::strerror(errno), errno};
    }
    const std::lock_guard lock(mutex_);
    auto id = server_->add_listener(std::move(listener));
    if (id) {
        listeners_.push_back({*id, *bound, ntp_port});
    }
    return id;
}

void NtsKeService::close(sys::TlsListenerId id) {
    server_->remove_listener(id);
    const std::lock_guard lock(mutex_);
    std::erase_if(listeners_, [id](const Listener& l) { return l.id == id; });
}

void NtsKeService::set_keyring(std::shared_ptr<const proto::CookieKeyring> ring) {
    const std::lock_guard lock(mutex_);
    ring_ = std::move(ring);
}

Status NtsKeService::set_credentials(const sys::TlsCredentials& tls) {
    return server_->set_credentials(tls);
}

void NtsKeService::start() {
    if (!thread_.joinable()) {
        thread_ = std::thread([this] { server_->run(); });
    }
}

void NtsKeService::stop() {
    if (thread_.joinable()) {
        server_->stop();
        thread_.join();
    }
}

NtsKeCounters NtsKeService::counters() const {
    const std::lock_guard lock(mutex_);
    return counters_;
}

sys::TlsExchangeStep NtsKeService::exchange(std::span<const std::uint8_t> received,
                                            const sys::TlsKeyExporter& exporter,
                                            const sys::SocketAddress& local) {
    sys::TlsExchangeStep step;
    const proto::KeRequestRead read = proto::read_ke_request(received);
    if (read.status == proto::KeRequestRead::Status::incomplete) {
        return step;
    }
    step.complete = true;
    std::shared_ptr<const proto::CookieKeyring> ring;
    std::uint16_t ntp_port = kDefaultNtpPort;
    {
        const std::lock_guard lock(mutex_);
        if (read.status == proto::KeRequestRead::Status::refused) {
            ++counters_.refused[static_cast<std::size_t>(read.problem)];
            step.answer = proto::ke_error_response(read.error);
            return step;
        }
        ring = ring_;
        for (const Listener& listener : listeners_) {
            if (listener.address == local) {
                ntp_port = listener.ntp_port;
            }
        }
    }
    const auto internal_error = [this, &step] {
        const std::lock_guard lock(mutex_);
        ++counters_.internal_errors;
        step.answer = proto::ke_error_response(proto::KeErrorCode::internal_server_error);
        return step;
    };
    std::vector<std::vector<std::uint8_t>> cookies;
    const bool agrees = proto::ke_agrees(read.request);
    if (agrees) {
        proto::NtsKeys keys;
        if (!ring || ring->empty() || !export_keys(exporter, keys)) {
            return internal_error();
        }
        for (std::size_t i = 0; i < kCookiesPerKe; ++i) {
            std::array<std::uint8_t, proto::kCookieNonceLength> nonce{};
            std::vector<std::uint8_t> cookie(proto::kCookieLength);
            if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1 ||
                !proto::seal_cookie(siv_, ring->current(), keys, nonce,
                                    std::span<std::uint8_t, proto::kCookieLength>(cookie))) {
                return internal_error();
            }
            cookies.push_back(std::move(cookie));
        }
    }
    step.answer = proto::ke_response(
        read.request,
        {cookies, "",
         ntp_port != kDefaultNtpPort ? std::optional<std::uint16_t>(ntp_port) : std::nullopt});
    const std::lock_guard lock(mutex_);
    ++(agrees ? counters_.established : counters_.no_agreement);
    return step;
}

}  // namespace cloudtime::server
