// SPDX-License-Identifier: Apache-2.0
#include "tenant/tenant_networks.hpp"

#include <fnmatch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "net/netns.hpp"
#include "net/nftables.hpp"
#include "net/tcp_listen.hpp"
#include "sys/directory_watch.hpp"
#include "sys/paths.hpp"
#include "sys/poller.hpp"
#include "tenant/tenant_namespace_changes.hpp"
#include "util/strings.hpp"

namespace cloudtime::server {

namespace {
// How often a namespace that could not be entered is tried again (`ip netns add` creates the
// file before it mounts the namespace on it). Missing addresses need no timer: the
// namespace's rtnetlink events say when addresses come (or finish DAD).
constexpr int kRetryMs = 100;
constexpr int kKeBacklog = 64;  // NTS-KE connections waiting to be accepted, per namespace
// How often a missing netns directory is looked for (it appears with the first namespace).
constexpr int kDirectoryRetryMs = 1000;

}  // namespace

Expected<std::unique_ptr<TenantNetworks>> TenantNetworks::start(TenantNetworkOptions options,
                                                                TenantSink& sink) {
    auto wakeup = sys::Wakeup::create();
    if (!wakeup) {
        return wakeup.failure();
    }
    std::unique_ptr<TenantNetworks> t(
        new TenantNetworks(std::move(options), sink, std::move(wakeup).value()));
    t->thread_ = std::thread([raw = t.get()] { raw->run(); });
    return t;
}

TenantNetworks::TenantNetworks(TenantNetworkOptions options, TenantSink& sink, sys::Wakeup wakeup)
    : options_(std::move(options)), sink_(sink), wakeup_(std::move(wakeup)) {}

TenantNetworks::~TenantNetworks() {
    stopping_ = true;
    wakeup_.signal();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void TenantNetworks::reconcile() {
    reconcile_requested_ = true;
    wakeup_.signal();
}

std::optional<TenantNetworkOptions> TenantNetworks::take_pending() {
    const std::lock_guard lock(pending_mutex_);
    return std::exchange(pending_, std::nullopt);
}

void TenantNetworks::reconfigure(TenantNetworkOptions options) {
    {
        const std::lock_guard lock(pending_mutex_);
        pending_ = std::move(options);
    }
    wakeup_.signal();
}

bool matches_any(const std::vector<std::string>& patterns, const std::string& name) {
    return std::any_of(patterns.begin(), patterns.end(), [&](const auto& p) {
        return ::fnmatch(p.c_str(), name.c_str(), FNM_PERIOD) == 0;
    });
}

namespace {

// The same address (scope aside: a label names it inside the namespace) and port.
bool same_endpoint(const sys::SocketAddress& a, const sys::SocketAddress& b) {
    return a.mapped_octets() == b.mapped_octets() && a.port() == b.port();
}
}  // namespace

bool TenantNetworks::followed(const std::string& name) const {
    return matches_any(options_.patterns, name) || matches_any(options_.router_patterns, name);
}

void TenantNetworks::attach(const std::string& name) {
    const std::string path = options_.netns_dir + "/" + name;
    if (!sys::path_exists(path)) {
        detach(name);  // gone before it could be served
        return;
    }
    if (matches_any(options_.router_patterns, name)) {
        attach_router(name, path);
        return;
    }
    Attached& entry = attached_[name];  // std::map: the element stays where it is
    hand_over(name, entry, open_inside(name, path, entry, unbound(entry)));
}

std::vector<sys::SocketAddress> TenantNetworks::unbound(const Attached& entry) const {
    std::vector<sys::SocketAddress> wanted;
    std::vector<sys::SocketAddress> all = options_.addresses;
    all.insert(all.end(), options_.managed.begin(), options_.managed.end());
    for (const auto& address : all) {
        const bool bound = std::any_of(entry.bound.begin(), entry.bound.end(), [&](const auto& b) {
            return same_endpoint(b.address, address);
        });
        if (!bound) {
            wanted.push_back(address);
        }
    }
    return wanted;
}

TenantNetworks::Opening TenantNetworks::open_inside(const std::string& name,
                                                    const std::string& path, Attached& entry,
                                                    const std::vector<sys::SocketAddress>& wanted) {
    Opening opening;
    auto scope = sys::NamespaceScope::enter(path);
    if (!scope) {
        // Between `ip netns add` creating the file and mounting the namespace on it.
        opening.missing.push_back(scope.error());
        return opening;
    }
    if (!entry.entered) {
        entry.entered = true;
        reclaim_leftovers(name, options_, entry.added);
        auto events = sys::open_address_events();
        if (events) {
            entry.address_events = std::move(events).value();
        } else {
            spdlog::warn("tenant network {}: {}; its addresses are not followed", name,
                         events.error());
        }
    }
    auto found = sys::find_local_addresses(wanted);
    if (!found) {
        opening.missing.push_back(found.error());
    } else if (add_managed(name, options_, *found, entry.added)) {
        found = sys::find_local_addresses(wanted);
    }
    std::vector<sys::SocketAddress> present;
    for (const auto& local : found ? *found : std::vector<sys::LocalAddress>{}) {
        present.push_back(local.address);
    }
    for (const auto& address : wanted) {
        const auto it = std::find_if(present.begin(), present.end(), [&](const auto& f) {
            return f.mapped_octets() == address.mapped_octets();
        });
        if (it == present.end()) {
            opening.missing.push_back(address.to_string());
        } else {
            open_one(*it, opening);
        }
    }
    return opening;  // and, with `scope`, back in our own namespace before anything else
}

void TenantNetworks::open_one(const sys::SocketAddress& address, Opening& into) const {
    auto socket = sys::UdpSocket::bind(address, {.reuse_port = false,
                                                 .nonblocking = true,
                                                 .receive_buffer = options_.receive_buffer,
                                                 .transmit_timestamps = true});
    if (!socket) {
        into.missing.push_back(address.to_string() + " (" + socket.error() + ")");
        return;
    }
    into.opened.push_back({std::move(socket).value(), address.to_string(), {}});
    if (options_.nts_ke_port == 0) {
        return;
    }
    sys::SocketAddress ke = address;
    ke.set_port(options_.nts_ke_port);
    auto listener = sys::listen_tcp(ke, kKeBacklog);
    if (listener) {
        into.opened.back().ke_listener = std::move(listener).value();
    } else {
        into.ke_problems.push_back(ke.to_string() + " (" + listener.error() + ")");
    }
}

void TenantNetworks::hand_over(const std::string& name, Attached& entry, Opening opening) {
    std::vector<std::string> added;
    for (auto& [socket, label, ke_listener] : opening.opened) {
        entry.bound.push_back({socket.local_address(), label});
        added.push_back(label);
        sink_.attached(name, label, std::move(socket));
        if (ke_listener.valid()) {
            sink_.attached_ke(name, label, std::move(ke_listener));
        }
    }
    const auto& ke_problems = opening.ke_problems;
    if (!ke_problems.empty()) {  // NTP is served there all the same
        spdlog::warn("tenant network {}: no NTS-KE on {}", name, join(ke_problems));
    }
    const bool was_missing = !entry.missing.empty();
    const std::vector<std::string> missing = opening.missing;
    set_missing(name, entry, std::move(opening.missing));
    if (!added.empty()) {
        spdlog::info("tenant network {}: serving NTP on {}{}{}", name, join(added),
                     options_.nts_ke_port != 0 && ke_problems.size() < added.size()
                         ? fmt::format(" with NTS-KE on tcp port {}", options_.nts_ke_port)
                         : std::string(),
                     missing.empty() ? "" : "; still missing: " + join(missing));
    } else if (!missing.empty() && !was_missing) {
        spdlog::info("tenant network {}: waiting for {}", name, join(missing));
    }
}

void TenantNetworks::attach_router(const std::string& name, const std::string& path) {
    Attached& entry = attached_[name];
    if (entry.redirected) {
        return;
    }
    std::optional<sys::UdpSocket> socket;
    std::string problem;
    {
        auto scope = sys::NamespaceScope::enter(path);
        if (!scope) {
            set_missing(name, entry, {scope.error()});
            return;  // tried again shortly
        }
        entry.entered = true;
        // Any local address: the redirect rewrites the destination to the address of the
        // interface the packet came in on, and the answer leaves from there (IP_PKTINFO).
        sys::SocketAddress local = *sys::parse_socket_address("0.0.0.0:0");
        local.set_port(options_.router.local_port);
        auto bound = sys::UdpSocket::bind(local, {.reuse_port = false,
                                                  .nonblocking = true,
                                                  .receive_buffer = options_.receive_buffer,
                                                  .transmit_timestamps = true});
        if (!bound) {
            problem = local.to_string() + ": " + bound.error();
        } else if (auto applied = sys::apply_nft(router_ruleset(options_.router)); !applied) {
            problem = applied.error();
        } else {
            socket.emplace(std::move(bound).value());
            entry.redirected = true;
        }
    }  // back in our own namespace before anything else
    if (!socket) {
        if (entry.missing != std::vector<std::string>{problem}) {
            spdlog::warn("tenant network {}: cannot redirect NTP: {} (tried again on SIGHUP)", name,
                         problem);
        }
        set_missing(name, entry, {problem});
        return;
    }
    set_missing(name, entry, {});
    std::vector<std::string> destinations;
    for (const auto& d : options_.router.destinations) {
        destinations.push_back(d.to_string());
    }
    const std::string label = fmt::format("{} (from {}, redirected to port {})", join(destinations),
                                          options_.router.interfaces, options_.router.local_port);
    sink_.attached(name, label, std::move(*socket));
    spdlog::info("tenant network {}: serving NTP on {}", name, label);
}

void TenantNetworks::set_missing(const std::string& name, Attached& entry,
                                 std::vector<std::string> missing) {
    if (missing != entry.missing) {
        sink_.waiting(name, join(missing, "; "));
    }
    entry.missing = std::move(missing);
}

void TenantNetworks::detach(const std::string& name) {
    const auto it = attached_.find(name);
    if (it == attached_.end()) {
        return;
    }
    sink_.released(name);  // the sockets close before their addresses go
    undo_changes(name, options_.netns_dir, it->second.added, it->second.redirected);
    attached_.erase(it);  // closes its rtnetlink socket
}

void TenantNetworks::apply_options(TenantNetworkOptions next) {
    const bool anew =
        next.netns_dir != options_.netns_dir || next.receive_buffer != options_.receive_buffer;
    std::vector<std::string> names;
    for (const auto& [name, entry] : attached_) {
        names.push_back(name);
    }
    for (const auto& name : names) {
        const bool router = matches_any(options_.router_patterns, name);
        const bool still_router = matches_any(next.router_patterns, name);
        const bool still_followed = still_router || matches_any(next.patterns, name);
        if (anew || !still_followed || router != still_router ||
            (router && !(next.router == options_.router))) {
            detach(name);  // its table and managed addresses go under the options that made them
        }
    }
    options_ = std::move(next);
    for (auto& [name, entry] : attached_) {
        if (!matches_any(options_.router_patterns, name)) {
            drop_unconfigured(name, entry);
        }
    }
    names.clear();
    for (const auto& [name, entry] : attached_) {
        names.push_back(name);
    }
    for (const auto& name : names) {
        attach(name);  // addresses configured now and not bound yet
    }
}

void TenantNetworks::drop_unconfigured(const std::string& name, Attached& entry) {
    const auto configured = [&](const sys::SocketAddress& a) {
        const auto same = [&](const auto& c) { return same_endpoint(c, a); };
        return std::any_of(options_.addresses.begin(), options_.addresses.end(), same) ||
               std::any_of(options_.managed.begin(), options_.managed.end(), same);
    };
    std::vector<Bound> kept;
    for (auto& b : entry.bound) {
        if (configured(b.address)) {
            kept.push_back(std::move(b));
        } else {
            sink_.closed(name, b.label);  // closes before its address may go below
            spdlog::info("tenant network {}: no longer serving {}", name, b.label);
        }
    }
    entry.bound = std::move(kept);
    std::vector<std::pair<sys::SocketAddress, unsigned>> still;
    std::vector<std::pair<sys::SocketAddress, unsigned>> unconfigured;
    for (const auto& added : entry.added) {
        const bool managed = std::any_of(
            options_.managed.begin(), options_.managed.end(),
            [&](const auto& m) { return m.mapped_octets() == added.first.mapped_octets(); });
        (managed ? still : unconfigured).push_back(added);
    }
    if (unconfigured.empty()) {
        return;
    }
    entry.added = std::move(still);
    auto scope = sys::NamespaceScope::enter(options_.netns_dir + "/" + name);
    if (!scope) {
        return;  // gone: its addresses with it
    }
    remove_managed(name, unconfigured);
}

void TenantNetworks::reconcile_now() {
    auto names = sys::list_directory(options_.netns_dir);
    if (!names) {
        names = std::vector<std::string>{};
    }
    std::vector<std::string> current;
    for (const auto& [name, entry] : attached_) {
        current.push_back(name);
    }
    for (const auto& name : current) {
        if (std::find(names->begin(), names->end(), name) == names->end()) {
            detach(name);
        }
    }
    for (const auto& name : *names) {
        const auto it = attached_.find(name);
        if (it == attached_.end() ? followed(name) : !it->second.missing.empty()) {
            attach(name);  // new, or still missing something: try again
        }
    }
}

bool TenantNetworks::follow_changes(sys::DirectoryWatch& watch) {
    auto changes = watch.read_changes();
    if (!changes) {
        spdlog::warn("tenant networks: {}; listing {} again", changes.error(), options_.netns_dir);
        return false;
    }
    for (const auto& change : *changes) {
        if (!followed(change.name)) {
            continue;
        }
        if (change.added) {
            attach(change.name);
        } else {
            detach(change.name);
        }
    }
    return true;
}

void TenantNetworks::retry_unentered() {
    std::vector<std::string> retry;
    for (const auto& [name, entry] : attached_) {
        if (!entry.entered) {
            retry.push_back(name);
        }
    }
    for (const auto& name : retry) {
        attach(name);
    }
}

void TenantNetworks::run() {
    std::optional<sys::DirectoryWatch> watch;
    bool directory_warned = false;
    bool need_reconcile = true;
    while (!stopping_) {
        if (!watch) {
            auto opened = sys::DirectoryWatch::open(options_.netns_dir);
            if (opened) {
                watch.emplace(std::move(opened).value());
                need_reconcile = true;
            } else if (!directory_warned) {
                spdlog::info("tenant networks: {} (looking again every second)", opened.error());
                directory_warned = true;
            }
        }
        if (auto next = take_pending()) {
            const bool moved = next->netns_dir != options_.netns_dir;
            apply_options(std::move(*next));
            if (moved) {
                watch.reset();  // opened again, and listed, at the top
                directory_warned = false;
                continue;
            }
            need_reconcile = true;
        }
        if (need_reconcile || reconcile_requested_.exchange(false)) {
            reconcile_now();
            need_reconcile = false;
        }
        // The control fds, then one rtnetlink socket per namespace still missing addresses.
        std::vector<int> fds{wakeup_.fd(), watch ? watch->fd() : -1};
        std::vector<std::string> watched;
        bool unentered = false;
        for (const auto& [name, entry] : attached_) {
            if (!entry.entered) {
                unentered = true;
            } else if (!entry.missing.empty() && entry.address_events.valid()) {
                fds.push_back(entry.address_events.get());
                watched.push_back(name);
            }
        }
        const int timeout = unentered ? kRetryMs : watch ? -1 : kDirectoryRetryMs;
        const std::vector<bool> readable = sys::readable_among(fds, timeout);
        if (readable.empty()) {
            continue;  // interrupted
        }
        if (readable[0]) {
            wakeup_.drain();
        }
        if (watch && readable[1] && !follow_changes(*watch)) {
            watch.reset();
            need_reconcile = true;
            continue;
        }
        for (std::size_t i = 0; i < watched.size(); ++i) {
            if (!readable[i + 2]) {
                continue;
            }
            if (attached_.count(watched[i]) != 0) {  // not detached just above
                sys::drain_events(fds[i + 2]);
                attach(watched[i]);
            }
        }
        if (unentered) {
            retry_unentered();
        }
    }
    while (!attached_.empty()) {
        detach(attached_.begin()->first);
    }
}

}  // namespace cloudtime::server
