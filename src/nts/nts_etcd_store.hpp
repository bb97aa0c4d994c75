// SPDX-License-Identifier: Apache-2.0
// The NTS cookie master keys of a fleet, in one etcd key: every cloudtimed of a region holds
// the same keys, so a cookie one instance issued opens at any other (a VM live-migrated to
// another hypervisor keeps its authenticated time without a new key establishment).
//
// No leader of our own: a thread reads the set, and whoever finds a rotation due writes the
// next set with a compare-and-swap transaction (etcd picks one writer, the others read the
// winner's set); it then watches the key until it changes or the next rotation is due.
// etcd unreachable: the keys held serve on (the current one past its period, the previous
// ones until their lifetime ends), the state says so and every member is tried again. The
// last set seen is kept in a 0600 file to start with while etcd cannot be reached.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "nts/nts_key_store.hpp"
#include "peers/etcd_client.hpp"
#include "util/expected.hpp"

namespace cloudtime::server {

struct NtsEtcdOptions {
    sys::EtcdOptions etcd;
    std::string key = "/cloudtime/nts-keys";
    std::string cache_file;  // the last set seen
    std::int64_t rotation_s = 86400;
    std::function<std::int64_t()> now;  // Unix seconds
};

class NtsEtcdStore final : public NtsKeyStore {
  public:
    // Reads (or makes) the set once before it returns; with etcd unreachable, starts from the
    // cache file, and fails only when there is none either.
    static Expected<std::unique_ptr<NtsEtcdStore>> start(NtsEtcdOptions options);
    ~NtsEtcdStore() override;
    NtsEtcdStore(const NtsEtcdStore&) = delete;
    NtsEtcdStore& operator=(const NtsEtcdStore&) = delete;

    Expected<bool> refresh(std::int64_t now) override;  // takes what the thread saw
    proto::NtsKeySet keys() const override;
    NtsKeyStoreState state() const override;

  private:
    NtsEtcdStore(NtsEtcdOptions options, sys::EtcdClient client)
        : options_(std::move(options)), client_(std::move(client)) {}
    // One round: read, rotate when due; the revision to watch from, or an error.
    Expected<std::int64_t> round();
    void run();
    void adopt(const proto::NtsKeySet& set);  // a set read or written: held, cached
    void unreachable(const std::string& problem);

    NtsEtcdOptions options_;
    sys::EtcdClient client_;  // the thread's only, after start()
    std::atomic<bool> stopping_{false};
    mutable std::mutex mutex_;
    proto::NtsKeySet set_;
    std::optional<std::uint64_t> taken_generation_;  // what refresh() handed out last
    NtsKeyStoreState state_{.kind = "etcd"};
    std::thread thread_;
};

}  // namespace cloudtime::server
