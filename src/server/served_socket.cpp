#include "server/served_socket.hpp"

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
    }
    wakeup_.signal();
}

void WorkerInbox::remove(const ServedSocket* socket) {
    {
        const std::lock_guard lock(mutex_);
        pending_.removed.push_back(socket);
    }
    wakeup_.signal();
}

void WorkerInbox::set_rules(std::shared_ptr<const RulesSet> rules) {
    {
        const std::lock_guard lock(mutex_);
        pending_.rules = std::move(rules);
    }
    wakeup_.signal();
}

WorkerInbox::Commands WorkerInbox::take() {
    wakeup_.drain();
    const std::lock_guard lock(mutex_);
    return std::exchange(pending_, {});
}

}  // namespace cloudtime::server
