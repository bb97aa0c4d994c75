// SPDX-License-Identifier: Apache-2.0
#include "serve/served_socket.hpp"

#include <chrono>
#include <thread>

namespace cloudtime::server {

Expected<std::unique_ptr<WorkerInbox>> WorkerInbox::create() {
    auto wakeup = sys::Wakeup::create();
    if (!wakeup) {
        return wakeup.failure();
    }
    return std::unique_ptr<WorkerInbox>(new WorkerInbox(std::move(wakeup).value()));
}

void WorkerInbox::add(std::unique_ptr<ServedSocket> socket) {
    {
        const std::lock_guard lock(mutex_);
        pending_.added.push_back(std::move(socket));
        pending_.sequence = ++given_;
    }
    wakeup_.signal();
}

void WorkerInbox::remove(const ServedSocket* socket) {
    {
        const std::lock_guard lock(mutex_);
        pending_.removed.push_back(socket);
        pending_.sequence = ++given_;
    }
    wakeup_.signal();
}

void WorkerInbox::set_rules(std::shared_ptr<const RulesSet> rules) {
    {
        const std::lock_guard lock(mutex_);
        pending_.rules = std::move(rules);
        pending_.sequence = ++given_;
    }
    wakeup_.signal();
}

bool WorkerInbox::wait_applied(int timeout_ms) const {
    std::uint64_t given = 0;
    {
        const std::lock_guard lock(mutex_);
        given = given_;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (applied_.load(std::memory_order_acquire) < given) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

WorkerInbox::Commands WorkerInbox::take() {
    wakeup_.drain();
    const std::lock_guard lock(mutex_);
    return std::exchange(pending_, {});
}

}  // namespace cloudtime::server
