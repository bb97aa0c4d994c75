// SPDX-License-Identifier: Apache-2.0
// Where the NTS cookie master keys live: a file of this host (server/nts_key_file) or etcd,
// shared by a fleet (server/nts_etcd_store). The daemon asks every second.
#pragma once

#include <cstdint>
#include <string>

#include "proto/nts_key_set.hpp"
#include "util/expected.hpp"

namespace cloudtime::server {

struct NtsKeyStoreState {
    std::string kind;             // "file" or "etcd"
    bool reachable = true;        // a file: its last rotation was written
    std::string endpoint{};       // etcd: the member that answered last
    std::string problem{};        // why it is not reachable, or its content unusable
    std::uint64_t writes = 0;     // rotations this instance wrote
    std::uint64_t conflicts = 0;  // rotations another instance wrote first
    std::uint64_t failures = 0;   // etcd: requests that failed on every endpoint; a file: writes
};

class NtsKeyStore {
  public:
    virtual ~NtsKeyStore() = default;
    // Rotates when due (or takes what the store holds now); true when the keys changed. An
    // error leaves the keys as they were: they serve on.
    virtual Expected<bool> refresh(std::int64_t now) = 0;
    virtual proto::NtsKeySet keys() const = 0;
    virtual NtsKeyStoreState state() const = 0;
};

}  // namespace cloudtime::server
