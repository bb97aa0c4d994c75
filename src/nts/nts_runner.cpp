// SPDX-License-Identifier: Apache-2.0
#include "nts/nts_runner.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <ctime>

#include "nts/nts_etcd_store.hpp"
#include "nts/nts_key_file.hpp"

namespace cloudtime::daemon {

Expected<std::unique_ptr<NtsRunner>> NtsRunner::prepare(const config::Config::Nts& nts,
                                                        const std::vector<sys::SocketAddress>& ntp,
                                                        const sys::TlsCredentials& credentials,
                                                        sys::EtcdOptions etcd) {
    auto service = server::NtsKeService::create(
        credentials, {.max_connections = nts.max_connections,
                      .max_connections_per_client = nts.max_connections_per_client,
                      .deadline = std::chrono::milliseconds(nts.ke_timeout_ms),
                      .max_request_bytes = proto::kMaxKeRequestLength});
    if (!service) {
        return Error{"nts: certificate " + nts.certificate + ", key " + nts.private_key + ": " +
                     service.error()};
    }
    for (const auto& address : ntp) {
        sys::SocketAddress ke = address;
        ke.set_port(nts.ke_port);
        if (auto listening = (*service)->listen(ke, address); !listening) {
            return listening.failure();
        }
    }
    auto runner =
        std::unique_ptr<NtsRunner>(new NtsRunner(nts, std::move(etcd), std::move(service).value()));
    runner->note_certificate(credentials);
    return runner;
}

void NtsRunner::note_certificate(const sys::TlsCredentials& credentials) {
    constexpr std::int64_t kDay = 86'400;
    constexpr std::int64_t kWarnBefore = 14 * kDay;  // the alert rule's margin too
    auto expiry = sys::certificate_expiry(credentials);
    if (!expiry) {
        certificate_expiry_ = 0;
        spdlog::warn("NTS: {}: {}", config_.certificate, expiry.error());
        return;
    }
    certificate_expiry_ = *expiry;
    const std::int64_t left = *expiry - static_cast<std::int64_t>(std::time(nullptr));
    if (left <= 0) {
        spdlog::error("NTS: the certificate {} expired {} hours ago: NTS clients refuse it",
                      config_.certificate, -left / 3'600);
    } else if (left < kWarnBefore) {
        spdlog::warn("NTS: the certificate {} expires in {}: renew it (then reload)",
                     config_.certificate,
                     left >= 2 * kDay ? fmt::format("{} days", left / kDay)
                                      : fmt::format("{} hours", left / 3'600));
    }
}

Status NtsRunner::start(const std::function<std::int64_t()>& clock, KeysSink to_workers) {
    to_workers_ = std::move(to_workers);
    const std::int64_t now = clock();
    std::string where = config_.key_file;
    if (config_.key_store == "etcd") {
        auto store = server::NtsEtcdStore::start({.etcd = etcd_,
                                                  .key = config_.etcd_key,
                                                  .cache_file = config_.key_file,
                                                  .rotation_s = config_.rotation_s,
                                                  .now = clock});
        if (!store) {
            return Error{"nts.key_store = \"etcd\": " + store.error()};
        }
        store_ = std::move(store).value();
        where = "etcd key " + config_.etcd_key + " (cached in " + config_.key_file + ")";
    } else {
        auto file = server::NtsKeyFile::open(config_.key_file, config_.rotation_s, now);
        if (!file) {
            return Error{"nts.key_file: " + file.error()};
        }
        store_ = std::make_unique<server::NtsKeyFile>(std::move(file).value());
    }
    (void)store_->refresh(now);  // the first set, taken
    publish(now);
    service_->start();
    spdlog::info(
        "NTS-KE on tcp port {} beside each NTP address (TLS 1.3, ntske/1, AEAD_AES_SIV_CMAC_256); "
        "cookie keys in {} (key {}, rotated every {} s)",
        config_.ke_port, where, store_->keys().keys.front().id, config_.rotation_s);
    return Done{};
}

void NtsRunner::tick(std::int64_t now) {
    if (!store_) {
        return;
    }
    const auto rotated = store_->refresh(now);
    if (!rotated) {
        // Tried every second: said when it starts, then at most once a minute.
        ++failed_rotations_;
        if (rotation_report_.take(LineBudget::Clock::now())) {
            spdlog::warn(
                "NTS: cannot rotate the cookie keys ({}); the current key serves on "
                "(failed {} time{} so far; nts.keys.store in the status)",
                rotated.error(), failed_rotations_, failed_rotations_ == 1 ? "" : "s");
        }
        return publish(now);
    }
    if (failed_rotations_ > 0) {
        spdlog::info("NTS: the cookie keys can be rotated again, after {} failed attempt{}",
                     failed_rotations_, failed_rotations_ == 1 ? "" : "s");
        failed_rotations_ = 0;
        rotation_report_ = LineBudget(1, std::chrono::minutes(1));
    }
    if (*rotated) {
        const proto::NtsKeySet keys = store_->keys();
        spdlog::info("NTS: new cookie key {} (generation {})", keys.keys.front().id,
                     keys.generation);
    }
    publish(now);
}

void NtsRunner::publish(std::int64_t now) {
    const proto::NtsKeySet keys = store_->keys();
    const proto::CookieKeyring ring = proto::keyring_at(keys, now);
    std::vector<std::uint32_t> ids;
    for (const auto& key : keys.keys) {
        if (ring.find(key.id) != nullptr) {
            ids.push_back(key.id);
        }
    }
    if (ids == published_) {
        return;
    }
    published_ = ids;
    auto shared = std::make_shared<const proto::CookieKeyring>(ring);
    // Workers first: a cookie the key establishment makes under a new key must find that
    // key in the worker its client's first request reaches.
    if (to_workers_) {
        to_workers_(shared);
    }
    service_->set_keyring(std::move(shared));
}

Status NtsRunner::use_credentials(const config::Config::Nts& nts,
                                  const sys::TlsCredentials& credentials) {
    if (auto set = service_->set_credentials(credentials); !set) {
        return Error{"nts: " + nts.certificate + " with " + nts.private_key + ": " + set.error()};
    }
    spdlog::info("NTS: certificate and key read again from {}", nts.certificate);
    config_.certificate = nts.certificate;
    note_certificate(credentials);
    return Done{};
}

}  // namespace cloudtime::daemon
