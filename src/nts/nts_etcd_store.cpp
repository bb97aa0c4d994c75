// SPDX-License-Identifier: Apache-2.0
#include "nts/nts_etcd_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "nts/nts_key_file.hpp"
#include "sys/text_file.hpp"

namespace cloudtime::server {

namespace {
// The longest a watch waits before the key is read again (a lost watch costs at most this).
constexpr std::int64_t kMaxWatchS = 10;
constexpr auto kRetry = std::chrono::seconds(1);
}  // namespace

Expected<std::unique_ptr<NtsEtcdStore>> NtsEtcdStore::start(NtsEtcdOptions options) {
    auto client = sys::EtcdClient::create(options.etcd);
    if (!client) {
        return Error{"nts.etcd_endpoints: " + client.error()};
    }
    std::unique_ptr<NtsEtcdStore> store(
        new NtsEtcdStore(std::move(options), std::move(client).value()));
    if (auto first = store->round(); !first) {
        auto cached = read_key_file(store->options_.cache_file);
        if (!cached) {
            return Error{"etcd: " + first.error() + "; and the cached keys: " + cached.error()};
        }
        if (!*cached || (*cached)->keys.empty()) {
            return Error{"etcd: " + first.error() + "; no cached keys in " +
                         store->options_.cache_file + " to start with"};
        }
        spdlog::warn("NTS: etcd: {}; starting with the {} keys cached in {}", first.error(),
                     (*cached)->keys.size(), store->options_.cache_file);
        const std::lock_guard lock(store->mutex_);
        store->set_ = std::move(**cached);
        store->set_.rotation_s = store->options_.rotation_s;
    }
    store->thread_ = std::thread([raw = store.get()] { raw->run(); });
    return store;
}

NtsEtcdStore::~NtsEtcdStore() {
    stopping_ = true;
    if (thread_.joinable()) {
        thread_.join();
    }
}

Expected<std::int64_t> NtsEtcdStore::round() {
    for (;;) {
        auto read = client_.get(options_.key);
        if (!read) {
            unreachable(read.error());
            return read.failure();
        }
        proto::NtsKeySet set;
        std::int64_t mod_revision = 0;
        if (read->value) {
            auto decoded = proto::decode_key_set(read->value->value);
            if (!decoded) {
                // Never overwritten: someone must look at what is there.
                unreachable("etcd key " + options_.key + " holds no key set: " + decoded.error());
                return decoded.failure();
            }
            set = std::move(decoded).value();
            mod_revision = read->value->mod_revision;
        }
        set.rotation_s = options_.rotation_s;
        const std::int64_t now = options_.now();
        if (!proto::rotation_due(set, now)) {
            adopt(set);
            return read->revision;
        }
        const auto fresh = fresh_master_key();
        if (!fresh) {
            return fresh.failure();
        }
        proto::NtsKeySet next = proto::rotated(set, *fresh, now);
        auto written =
            client_.put_if_unchanged(options_.key, proto::encode_key_set(next), mod_revision);
        if (!written) {
            unreachable(written.error());
            return written.failure();
        }
        const std::lock_guard lock(mutex_);
        ++(*written ? state_.writes : state_.conflicts);
        // Read again either way: ours, or the set that won.
    }
}

void NtsEtcdStore::adopt(const proto::NtsKeySet& set) {
    bool changed = false;
    {
        const std::lock_guard lock(mutex_);
        if (!state_.reachable) {
            spdlog::info("NTS: etcd answers again ({})", client_.endpoint());
        }
        state_.reachable = true;
        state_.problem.clear();
        state_.endpoint = client_.endpoint();
        changed = !(set == set_);
        if (changed) {
            set_ = set;
        }
    }
    if (changed && !options_.cache_file.empty()) {
        if (auto written = sys::write_private_file(options_.cache_file, proto::encode_key_set(set));
            !written) {
            spdlog::warn("NTS: cannot cache the keys in {}: {}", options_.cache_file,
                         written.error());
        }
    }
}

void NtsEtcdStore::unreachable(const std::string& problem) {
    const std::lock_guard lock(mutex_);
    ++state_.failures;
    if (state_.reachable && !set_.keys.empty()) {  // without keys, start() says why
        spdlog::warn("NTS: {}; the {} keys held serve on, etcd is tried again every second",
                     problem, set_.keys.size());
    }
    state_.reachable = false;
    state_.problem = problem;
}

void NtsEtcdStore::run() {
    while (!stopping_) {
        const auto revision = round();
        if (!revision) {
            const auto until = std::chrono::steady_clock::now() + kRetry;
            while (!stopping_ && std::chrono::steady_clock::now() < until) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
            continue;
        }
        const std::int64_t now = options_.now();
        const std::int64_t due = proto::next_rotation(keys(), now);
        const std::int64_t wait_s = std::clamp<std::int64_t>(due - now, 1, kMaxWatchS);
        auto changed = client_.wait_for_change(options_.key, *revision,
                                               std::chrono::seconds(wait_s), stopping_);
        if (!changed) {
            unreachable(changed.error());
            std::this_thread::sleep_for(std::chrono::milliseconds(100));  // never spin
        }
    }
}

Expected<bool> NtsEtcdStore::refresh(std::int64_t /*now*/) {
    const std::lock_guard lock(mutex_);
    const bool changed = taken_generation_ != set_.generation;
    taken_generation_ = set_.generation;
    return changed;
}

proto::NtsKeySet NtsEtcdStore::keys() const {
    const std::lock_guard lock(mutex_);
    return set_;
}

NtsKeyStoreState NtsEtcdStore::state() const {
    const std::lock_guard lock(mutex_);
    return state_;
}

}  // namespace cloudtime::server
