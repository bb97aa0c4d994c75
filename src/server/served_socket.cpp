#include "server/served_socket.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

namespace cloudtime::server {

Expected<std::unique_ptr<WorkerInbox>> WorkerInbox::create() {
    sys::UniqueFd event(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!event.valid()) {
        return sys::os_error("eventfd");
    }
    return std::unique_ptr<WorkerInbox>(new WorkerInbox(std::move(event)));
}

void WorkerInbox::wake() const {
    const std::uint64_t one = 1;
    // An eventfd counter cannot overflow with one write per command.
    [[maybe_unused]] const ssize_t n = ::write(event_.get(), &one, sizeof(one));
}

void WorkerInbox::add(std::unique_ptr<ServedSocket> socket) {
    {
        const std::lock_guard lock(mutex_);
        pending_.added.push_back(std::move(socket));
    }
    wake();
}

void WorkerInbox::remove(const ServedSocket* socket) {
    {
        const std::lock_guard lock(mutex_);
        pending_.removed.push_back(socket);
    }
    wake();
}

WorkerInbox::Commands WorkerInbox::take() {
    std::uint64_t count = 0;
    [[maybe_unused]] const ssize_t n = ::read(event_.get(), &count, sizeof(count));
    const std::lock_guard lock(mutex_);
    return std::exchange(pending_, {});
}

}  // namespace cloudtime::server
