// SPDX-License-Identifier: Apache-2.0
// A client of etcd's v3 API through its JSON gateway (etcd 3.4: POST /v3/kv/range,
// /v3/kv/txn, /v3/watch), over HTTP or HTTPS with a client certificate: what the NTS cookie
// keys of a fleet need and nothing more (one key read, written only if unchanged, watched).
// Every call is bounded in time and tries the endpoints in turn, the last one that answered
// first; endpoints are IP addresses (the daemon resolves no names under its seccomp filter).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "peers/etcd_messages.hpp"
#include "util/expected.hpp"

namespace cloudtime::sys {

struct EtcdOptions {
    std::vector<std::string> endpoints;  // "http://127.0.0.1:2379", "https://[::1]:2379"
    // https, PEM texts (read before privileges drop): the CA that signed the members'
    // certificates (empty: the system's store), a client certificate and its key (optional).
    std::string ca_pem{};
    std::string certificate_pem{};
    std::string private_key_pem{};
    std::chrono::milliseconds timeout{2000};  // per request and endpoint
};

class EtcdClient {
  public:
    // Checks the endpoints' form and the TLS material.
    static Expected<EtcdClient> create(EtcdOptions options);

    Expected<EtcdRead> get(const std::string& key);
    // Writes `value` only if the key's mod_revision is still `mod_revision` (0: the key must
    // not exist): a compare-and-swap transaction. false: someone else wrote first.
    Expected<bool> put_if_unchanged(const std::string& key, const std::string& value,
                                    std::int64_t mod_revision);
    // Watches `key` from revision `after` + 1: true as soon as it changed, false when `wait`
    // passed or `stop` was set (checked every 100 ms) without a change.
    Expected<bool> wait_for_change(const std::string& key, std::int64_t after,
                                   std::chrono::milliseconds wait, const std::atomic<bool>& stop);

    // The endpoint that answered last ("" before any did).
    const std::string& endpoint() const { return endpoint_; }

    struct Call;  // how one request is read (whole, or streamed until done)

    // An endpoint as create() read it.
    struct Endpoint {
        std::string url{};
        bool tls = false;
        std::string host{};  // the address, without brackets
        std::uint16_t port = 0;
    };

  private:
    EtcdClient(EtcdOptions options, std::vector<Endpoint> endpoints)
        : options_(std::move(options)), endpoints_(std::move(endpoints)) {}
    // One POST on the endpoints in turn; the body of the first 200 answer.
    Expected<std::string> post(const std::string& path, const std::string& body, Call& call);

    EtcdOptions options_;
    std::vector<Endpoint> endpoints_;
    std::size_t preferred_ = 0;  // index of the endpoint that answered last
    std::string endpoint_;
};

}  // namespace cloudtime::sys
