// SPDX-License-Identifier: Apache-2.0
// The daemon's NTS role: the certificate read, NTS-KE listening beside every NTP address, the
// cookie master keys loaded (or made) and rotated, and handed to the key establishment.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "nts/nts_ke_service.hpp"
#include "nts/nts_key_store.hpp"
#include "peers/etcd_client.hpp"
#include "proto/nts_key_set.hpp"
#include "util/expected.hpp"
#include "util/line_budget.hpp"

namespace cloudtime::daemon {

class NtsRunner {
  public:
    // Before privileges are dropped: listens for NTS-KE on `ke_port` at each NTP address, with
    // the certificate and key (and etcd's options) that preflight read and checked.
    static Expected<std::unique_ptr<NtsRunner>> prepare(const config::Config::Nts& nts,
                                                        const std::vector<sys::SocketAddress>& ntp,
                                                        const sys::TlsCredentials& credentials,
                                                        sys::EtcdOptions etcd);
    // After the drop: loads or makes the key file, or reads the fleet's keys from etcd (as the
    // user that rotates them later), and starts serving. `to_workers` receives the key ring
    // now and whenever it changes. `clock` gives Unix seconds (etcd's thread asks it).
    using KeysSink = std::function<void(std::shared_ptr<const proto::CookieKeyring>)>;
    Status start(const std::function<std::int64_t()>& clock, KeysSink to_workers);
    // Every second: a rotation when due, keys past their lifetime dropped.
    void tick(std::int64_t now);
    // A reload: the certificate and key (read and checked before anything was applied) serve
    // the connections from now on.
    Status use_credentials(const config::Config::Nts& nts, const sys::TlsCredentials& credentials);

    server::NtsKeCounters counters() const { return service_->counters(); }
    // Where tenant networks' NTS-KE listeners are served.
    server::NtsKeService& key_establishment() { return *service_; }
    proto::NtsKeySet keys() const { return store_->keys(); }
    server::NtsKeyStoreState key_store() const { return store_->state(); }
    // The NTS-KE certificate's notAfter (Unix seconds; 0 when it could not be read).
    std::int64_t certificate_expiry() const { return certificate_expiry_; }

  private:
    NtsRunner(config::Config::Nts nts, sys::EtcdOptions etcd,
              std::unique_ptr<server::NtsKeService> service)
        : config_(std::move(nts)), etcd_(std::move(etcd)), service_(std::move(service)) {}
    void publish(std::int64_t now);
    // Reads the certificate's expiry and warns when it is near or past (clients refuse it).
    void note_certificate(const sys::TlsCredentials& credentials);

    config::Config::Nts config_;
    sys::EtcdOptions etcd_;  // key_store = "etcd": endpoints and TLS material
    std::unique_ptr<server::NtsKeService> service_;
    std::unique_ptr<server::NtsKeyStore> store_;
    std::vector<std::uint32_t> published_;  // the ids handed out
    KeysSink to_workers_;
    std::uint64_t failed_rotations_ = 0;  // in a row
    std::int64_t certificate_expiry_ = 0;
    LineBudget rotation_report_{1, std::chrono::minutes(1)};
};

}  // namespace cloudtime::daemon
