// SPDX-License-Identifier: Apache-2.0
#include "tenant/tenant_registry.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

namespace cloudtime::server {

TenantRegistry::~TenantRegistry() {
    for (auto& [name, entry] : entries_) {
        close_ke(entry, nullptr);
        for (const ServedSocket* socket : entry.sockets) {
            server_.detach(socket);
        }
    }
}

void TenantRegistry::close_ke(Entry& entry, const std::string* label) {
    std::erase_if(entry.ke_listeners, [&](const auto& listener) {
        if (label != nullptr && listener.first != *label) {
            return false;
        }
        key_establishment_->close(listener.second);
        return true;
    });
}

void TenantRegistry::attached_ke(const std::string& ns, const std::string& label,
                                 sys::UniqueFd listener) {
    if (key_establishment_ == nullptr) {
        return;  // NTS is off here: the listener closes
    }
    const auto ntp = sys::parse_socket_address(label);
    auto id = key_establishment_->adopt(std::move(listener), ntp ? ntp->port() : 123);
    if (!id) {
        spdlog::warn("tenant network {}: NTS-KE beside {}: {}", ns, label, id.error());
        return;
    }
    const std::lock_guard lock(mutex_);
    const auto it = entries_.find(ns);
    if (it == entries_.end()) {  // its NTP socket went already
        key_establishment_->close(*id);
        return;
    }
    it->second.ke_listeners.emplace_back(label, *id);
}

void TenantRegistry::attached(const std::string& ns, const std::string& label,
                              sys::UdpSocket socket) {
    const std::lock_guard lock(mutex_);
    const bool first = entries_.find(ns) == entries_.end();
    Entry& entry = entries_[ns];
    if (first && own_series_ < max_series_) {
        entry.own_series = true;
        ++own_series_;
    }
    entry.sockets.push_back(server_.attach(std::move(socket), entry.counters));
    entry.labels.push_back(label);
}

void TenantRegistry::waiting(const std::string& ns, const std::string& what) {
    const std::lock_guard lock(mutex_);
    if (what.empty()) {
        waiting_.erase(ns);
    } else {
        waiting_[ns] = what;
    }
}

void TenantRegistry::released(const std::string& ns) {
    std::optional<Entry> gone;
    {
        const std::lock_guard lock(mutex_);
        waiting_.erase(ns);
        const auto it = entries_.find(ns);
        if (it == entries_.end()) {
            return;
        }
        close_ke(it->second, nullptr);
        gone = std::move(it->second);
        entries_.erase(it);
        if (gone->own_series) {
            --own_series_;
        }
        // Its counts go on in `other` (a last batch its workers serve before they close the
        // sockets is not counted there).
        released_received_ += gone->counters->received.load();
        released_answered_ += gone->counters->answered.load();
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
        close_ke(entry, &label);
        const auto index = at - entry.labels.begin();
        socket = entry.sockets[static_cast<std::size_t>(index)];
        entry.labels.erase(at);
        entry.sockets.erase(entry.sockets.begin() + index);
    }
    server_.detach(socket);
}

TenantMetrics TenantRegistry::metrics(
    const std::function<bool(const std::string&)>& is_router) const {
    TenantMetrics out;
    const std::lock_guard lock(mutex_);
    out.other_received = released_received_;
    out.other_answered = released_answered_;
    out.namespaces = entries_.size();
    out.waiting = waiting_.size();
    for (const auto& [name, entry] : entries_) {
        out.sockets += entry.sockets.size();
        if (is_router(name)) {
            ++out.routers;
        }
        const std::uint64_t received = entry.counters->received.load();
        const std::uint64_t answered = entry.counters->answered.load();
        if (entry.own_series) {
            out.own.push_back({name, received, answered});
        } else {
            out.other_received += received;
            out.other_answered += answered;
        }
    }
    return out;
}

void TenantRegistry::set_max_series(std::size_t max) {
    const std::lock_guard lock(mutex_);
    max_series_ = max;
}

std::vector<TenantNetworkStatus> TenantRegistry::status() const {
    std::vector<TenantNetworkStatus> out;
    const std::lock_guard lock(mutex_);
    for (const auto& [name, entry] : entries_) {
        out.push_back({name, entry.labels, entry.ke_listeners.size(),
                       entry.counters->received.load(), entry.counters->answered.load()});
    }
    return out;
}

}  // namespace cloudtime::server
