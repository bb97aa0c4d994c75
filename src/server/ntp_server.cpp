#include "server/ntp_server.hpp"

#include <algorithm>
#include <cstdint>
#include <random>

#include "sys/clock.hpp"

#include "server/worker.hpp"

namespace cloudtime::server {

NtpServer::NtpServer(const SnapshotCell& clock, proto::ServerPolicy policy)
    : clock_(clock), policy_(policy) {}

NtpServer::~NtpServer() {
    stop();
}

Expected<std::unique_ptr<NtpServer>> NtpServer::bind(const ServerOptions& options,
                                                     const SnapshotCell& clock) {
    if (options.listen.empty()) {
        return Error{"no listen address"};
    }
    std::unique_ptr<NtpServer> server(new NtpServer(clock, options.policy));
    server->batch_size_ = options.batch_size;
    server->ipv6_prefix_ = options.rate_limit.ipv6_prefix;
    server->access_ = options.access;
    if (options.rate_limit.enabled) {
        std::random_device device;
        const std::uint64_t seed = (std::uint64_t{device()} << 32U) | device();
        server->limiter_ =
            std::make_unique<proto::RateLimiter>(options.rate_limit, seed, sys::realtime_now());
    }
    const unsigned threads =
        options.threads != 0 ? options.threads : std::max(1U, std::thread::hardware_concurrency());
    auto stop = sys::Wakeup::create();
    if (!stop) {
        return stop.failure();
    }
    server->stop_.emplace(std::move(stop).value());
    server->per_worker_.resize(threads);
    for (const auto& address : options.listen) {
        // The first socket resolves port 0; its siblings share the port it got.
        sys::SocketAddress target = address;
        for (unsigned t = 0; t < threads; ++t) {
            auto socket = sys::UdpSocket::bind(target, {.reuse_port = true,
                                                        .nonblocking = true,
                                                        .receive_buffer = options.receive_buffer});
            if (!socket) {
                return socket.failure();
            }
            if (t == 0) {
                target.set_port(socket->local_address().port());
                server->bound_.push_back(target);
            }
            server->per_worker_[t].push_back(
                std::make_unique<ServedSocket>(ServedSocket{std::move(socket).value(), nullptr}));
        }
    }
    server->counters_ = std::make_unique<WorkerCounters[]>(threads);
    for (unsigned t = 0; t < threads; ++t) {
        auto inbox = WorkerInbox::create();
        if (!inbox) {
            return inbox.failure();
        }
        server->inboxes_.push_back(std::move(inbox).value());
    }
    return server;
}

void NtpServer::start() {
    for (std::size_t t = 0; t < per_worker_.size(); ++t) {
        std::random_device device;
        std::vector<ServedSocket*> sockets;
        for (const auto& s : per_worker_[t]) {
            sockets.push_back(s.get());
        }
        const WorkerContext ctx{
            .sockets = std::move(sockets),
            .inbox = inboxes_[t].get(),
            .stop_fd = stop_->fd(),
            .clock = &clock_,
            .rules = {.policy = policy_,
                      .access = access_.empty() ? nullptr : &access_,
                      .limiter = limiter_.get(),
                      .ipv6_prefix = ipv6_prefix_},
            .counters = &counters_[t],
            .batch_size = batch_size_,
            .random_seed = (std::uint64_t{device()} << 32U) | device(),
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

const ServedSocket* NtpServer::attach(sys::UdpSocket socket,
                                      std::shared_ptr<TenantCounters> counters) {
    auto served =
        std::make_unique<ServedSocket>(ServedSocket{std::move(socket), std::move(counters)});
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

CounterTotals NtpServer::totals() const {
    CounterTotals totals;
    for (std::size_t t = 0; t < per_worker_.size(); ++t) {
        counters_[t].add_to(totals);
    }
    return totals;
}

}  // namespace cloudtime::server
