#include "server/tenant_registry.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

namespace cloudtime::server {

TenantRegistry::~TenantRegistry() {
    for (const auto& [name, entry] : entries_) {
        for (const ServedSocket* socket : entry.sockets) {
            server_.detach(socket);
        }
    }
}

void TenantRegistry::attached(const std::string& ns, const std::string& label,
                              sys::UdpSocket socket) {
    const std::lock_guard lock(mutex_);
    Entry& entry = entries_[ns];
    entry.sockets.push_back(server_.attach(std::move(socket), entry.counters));
    entry.labels.push_back(label);
}

void TenantRegistry::released(const std::string& ns) {
    std::optional<Entry> gone;
    {
        const std::lock_guard lock(mutex_);
        const auto it = entries_.find(ns);
        if (it == entries_.end()) {
            return;
        }
        gone = std::move(it->second);
        entries_.erase(it);
    }
    // Said before the workers close the sockets (they do it on their own threads): whoever
    // sees the sockets gone finds the line already written.
    spdlog::info("tenant network {}: released ({} sockets; received {}, answered {})", ns,
                 gone->sockets.size(), gone->counters->received.load(),
                 gone->counters->answered.load());
    for (const ServedSocket* socket : gone->sockets) {
        server_.detach(socket);
    }
}

void TenantRegistry::closed(const std::string& ns, const std::string& label) {
    const ServedSocket* socket = nullptr;
    {
        const std::lock_guard lock(mutex_);
        const auto it = entries_.find(ns);
        if (it == entries_.end()) {
            return;
        }
        Entry& entry = it->second;
        const auto at = std::find(entry.labels.begin(), entry.labels.end(), label);
        if (at == entry.labels.end()) {
            return;
        }
        const auto index = at - entry.labels.begin();
        socket = entry.sockets[static_cast<std::size_t>(index)];
        entry.labels.erase(at);
        entry.sockets.erase(entry.sockets.begin() + index);
    }
    server_.detach(socket);
}

std::vector<TenantNetworkStatus> TenantRegistry::status() const {
    std::vector<TenantNetworkStatus> out;
    const std::lock_guard lock(mutex_);
    for (const auto& [name, entry] : entries_) {
        out.push_back(
            {name, entry.labels, entry.counters->received.load(), entry.counters->answered.load()});
    }
    return out;
}

}  // namespace cloudtime::server
