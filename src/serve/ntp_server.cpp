// SPDX-License-Identifier: Apache-2.0
#include "serve/ntp_server.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <random>

#include <spdlog/spdlog.h>

#include "serve/worker.hpp"
#include "sys/clock.hpp"

namespace cloudtime::server {

namespace {
constexpr int kApplyTimeoutMs = 1000;

std::uint64_t random_seed() {
    std::random_device device;
    return (std::uint64_t{device()} << 32U) | device();
}
}  // namespace

NtpServer::~NtpServer() {
    stop();
}

std::shared_ptr<const RulesSet> NtpServer::make_rules(const ServerOptions& options) const {
    auto set = std::make_shared<RulesSet>();
    set->access = options.access;
    if (options.rate_limit.enabled) {
        if (rules_ && rules_->limiter && rules_->limiter->policy() == options.rate_limit) {
            set->limiter = rules_->limiter;  // its sources' state stays
        } else {
            set->limiter = std::make_shared<proto::RateLimiter>(options.rate_limit, random_seed(),
                                                                sys::realtime_now());
        }
    }
    if (options.interleaved_records != 0) {
        if (rules_ && rules_->interleaved &&
            rules_->interleaved->entries() == std::bit_ceil(options.interleaved_records)) {
            set->interleaved = rules_->interleaved;  // its clients stay in interleaved mode
        } else {
            set->interleaved = std::make_shared<proto::InterleavedTable>(
                options.interleaved_records, random_seed());
        }
    }
    set->nts_keys = nts_keys_;
    set->rules = {.policy = options.policy,
                  .access = set->access.empty() ? nullptr : &set->access,
                  .limiter = set->limiter.get(),
                  .ipv6_prefix = options.rate_limit.ipv6_prefix,
                  .interleaved = set->interleaved.get()};
    return set;
}

Expected<std::unique_ptr<NtpServer>> NtpServer::bind(const ServerOptions& options,
                                                     const SnapshotCell& clock) {
    if (options.listen.empty()) {
        return Error{"no listen address"};
    }
    std::unique_ptr<NtpServer> server(new NtpServer(clock));
    server->batch_size_ = options.batch_size;
    server->receive_buffer_ = options.receive_buffer;
    server->rules_ = server->make_rules(options);
    server->options_ = options;
    const unsigned threads =
        options.threads != 0 ? options.threads : std::max(1U, std::thread::hardware_concurrency());
    auto stop = sys::Wakeup::create();
    if (!stop) {
        return stop.failure();
    }
    server->stop_.emplace(std::move(stop).value());
    server->counters_ = std::make_unique<WorkerCounters[]>(threads);
    for (unsigned t = 0; t < threads; ++t) {
        auto inbox = WorkerInbox::create();
        if (!inbox) {
            return inbox.failure();
        }
        server->inboxes_.push_back(std::move(inbox).value());
    }
    for (const auto& address : options.listen) {
        if (auto added = server->add_listener(address); !added) {
            return added.failure();
        }
    }
    return server;
}

Status NtpServer::add_listener(const sys::SocketAddress& address) {
    // The first socket resolves port 0; its siblings share the port it got.
    Listener listener{address, address, {}, {}};
    std::vector<std::unique_ptr<ServedSocket>> sockets;
    for (std::size_t t = 0; t < inboxes_.size(); ++t) {
        auto socket = sys::UdpSocket::bind(listener.bound, {.reuse_port = true,
                                                            .nonblocking = true,
                                                            .receive_buffer = receive_buffer_,
                                                            .transmit_timestamps = true});
        if (!socket) {
            return socket.failure();  // the ones bound so far close with `sockets`
        }
        if (t == 0) {
            listener.bound.set_port(socket->local_address().port());
            if (receive_buffer_granted_ == 0) {
                receive_buffer_granted_ = socket->receive_buffer();
            }
        }
        auto counters = std::make_shared<WorkerCounters>();
        listener.counters.push_back(counters);
        sockets.push_back(std::make_unique<ServedSocket>(
            ServedSocket{std::move(socket).value(), nullptr, std::move(counters), nullptr}));
    }
    // All bound: the workers take them (before start, they find them in their inbox).
    for (std::size_t t = 0; t < inboxes_.size(); ++t) {
        listener.sockets.push_back(sockets[t].get());
        inboxes_[t]->add(std::move(sockets[t]));
    }
    bound_.push_back(listener.bound);
    listeners_.push_back(std::move(listener));
    return Done{};
}

std::vector<sys::SocketAddress> NtpServer::configured_addresses() const {
    std::vector<sys::SocketAddress> addresses;
    for (const auto& listener : listeners_) {
        addresses.push_back(listener.configured);
    }
    return addresses;
}

Status NtpServer::update(const ServerOptions& options) {
    const auto listed = [](const std::vector<sys::SocketAddress>& list,
                           const sys::SocketAddress& a) {
        return std::find(list.begin(), list.end(), a) != list.end();
    };
    const std::size_t kept = listeners_.size();
    for (const auto& address : options.listen) {
        const bool known = std::any_of(listeners_.begin(), listeners_.end(),
                                       [&](const Listener& l) { return l.configured == address; });
        if (known) {
            continue;
        }
        if (auto added = add_listener(address); !added) {
            // Take back what this update added: the server is as it was.
            for (std::size_t i = kept; i < listeners_.size(); ++i) {
                for (std::size_t t = 0; t < inboxes_.size(); ++t) {
                    inboxes_[t]->remove(listeners_[i].sockets[t]);
                }
            }
            listeners_.resize(kept);
            bound_.resize(kept);
            return Error{"cannot listen on " + address.to_string() + ": " + added.error(),
                         added.error_code()};
        }
    }
    for (auto it = listeners_.begin(); it != listeners_.end();) {
        if (listed(options.listen, it->configured)) {
            ++it;
            continue;
        }
        for (std::size_t t = 0; t < inboxes_.size(); ++t) {
            inboxes_[t]->remove(it->sockets[t]);
        }
        it = listeners_.erase(it);
    }
    bound_.clear();
    for (const auto& l : listeners_) {
        bound_.push_back(l.bound);
    }
    rules_ = make_rules(options);
    options_ = options;
    for (const auto& inbox : inboxes_) {
        inbox->set_rules(rules_);
    }
    // Said applied only once it is: every worker serves the new sockets and rules.
    for (const auto& inbox : inboxes_) {
        if (!inbox->wait_applied(kApplyTimeoutMs)) {
            spdlog::warn("a worker has not taken the new configuration within 1 s: it will");
            break;
        }
    }
    return Done{};
}

void NtpServer::start() {
    // Seeds first: a random_device may hold a descriptor while it lives, and none may be open
    // while the workers make theirs (a tight descriptor limit is sized to what they keep).
    std::vector<std::uint64_t> seeds;
    for (std::size_t t = 0; t < inboxes_.size(); ++t) {
        seeds.push_back(random_seed());
    }
    for (std::size_t t = 0; t < inboxes_.size(); ++t) {
        const WorkerContext ctx{
            .inbox = inboxes_[t].get(),
            .stop_fd = stop_->fd(),
            .clock = &clock_,
            .rules = rules_,
            .counters = &counters_[t],
            .batch_size = batch_size_,
            .random_seed = seeds[t],
        };
        threads_.emplace_back([ctx] { run_worker(ctx); });
    }
}

void NtpServer::stop() {
    if (threads_.empty()) {
        return;
    }
    stop_->signal();
    threads_.clear();  // joins
}

void NtpServer::set_nts_keys(std::shared_ptr<const proto::CookieKeyring> keys) {
    nts_keys_ = std::move(keys);
    rules_ = make_rules(*options_);
    for (const auto& inbox : inboxes_) {
        inbox->set_rules(rules_);
    }
}

const ServedSocket* NtpServer::attach(sys::UdpSocket socket,
                                      std::shared_ptr<TenantCounters> counters) {
    auto served = std::make_unique<ServedSocket>(
        ServedSocket{std::move(socket), std::move(counters), nullptr, nullptr});
    const ServedSocket* handle = served.get();
    const std::size_t worker = next_worker_++ % inboxes_.size();
    attached_[handle] = worker;
    inboxes_[worker]->add(std::move(served));
    return handle;
}

void NtpServer::detach(const ServedSocket* socket) {
    const auto it = attached_.find(socket);
    if (it == attached_.end()) {
        return;
    }
    inboxes_[it->second]->remove(socket);
    attached_.erase(it);
}

std::vector<NtpServer::AddressTotals> NtpServer::address_totals() const {
    std::vector<AddressTotals> out;
    for (const Listener& listener : listeners_) {
        AddressTotals a{listener.bound, {}};
        for (const auto& counters : listener.counters) {
            counters->add_to(a.totals);
        }
        out.push_back(a);
    }
    return out;
}

std::int64_t NtpServer::largest_gauge(std::int64_t (WorkerCounters::*gauge)() const) const {
    std::int64_t largest = 0;
    for (std::size_t t = 0; t < inboxes_.size(); ++t) {
        largest = std::max(largest, (counters_[t].*gauge)());
    }
    return largest;
}

CounterTotals NtpServer::totals() const {
    CounterTotals totals;
    for (std::size_t t = 0; t < inboxes_.size(); ++t) {
        counters_[t].add_to(totals);
    }
    return totals;
}

}  // namespace cloudtime::server
