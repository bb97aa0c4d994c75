// SPDX-License-Identifier: Apache-2.0
#include "tenant/tenant_runner.hpp"

#include <spdlog/spdlog.h>

#include "net/fd_passing.hpp"
#include "sys/privileges.hpp"
#include "sys/process.hpp"
#include "util/strings.hpp"

namespace cloudtime::daemon {

namespace {
constexpr int kHelperGraceMs = 1000;

server::TenantNetworkOptions tenant_options(const Config& config) {
    const auto& tn = config.tenant_networks;
    server::TenantNetworkOptions options{
        .netns_dir = tn.netns_dir,
        .patterns = tn.patterns,
        .addresses = tn.addresses,
        .managed = tn.managed_addresses,
        .router_patterns = tn.router_patterns,
        .router = {.destinations = {},
                   .interfaces = tn.router_interfaces,
                   .local_port = tn.router_port},
        .receive_buffer = static_cast<int>(config.receive_buffer),
        .nts_ke_port = config.nts.enabled ? config.nts.ke_port : std::uint16_t{0}};
    for (auto* list : {&options.addresses, &options.managed}) {
        for (auto& a : *list) {
            a.set_port(tn.port);
            if (!a.is_ipv6()) {
                options.router.destinations.push_back(a);
            }
        }
    }
    return options;
}

// "namespaces ovnmeta-* in /run/netns, serving 169.254.169.254:123; routers ..."
std::string describe(const server::TenantNetworkOptions& o) {
    std::vector<std::string> addresses;
    for (const auto& a : o.addresses) {
        addresses.push_back(a.to_string());
    }
    for (const auto& a : o.managed) {
        addresses.push_back(a.to_string() + " (managed)");
    }
    const std::string routers =
        o.router_patterns.empty()
            ? std::string()
            : fmt::format("; routers {} redirected from {} to port {}", join(o.router_patterns),
                          o.router.interfaces, o.router.local_port);
    const std::string ke =
        o.nts_ke_port != 0 ? fmt::format(" and NTS-KE on tcp port {}", o.nts_ke_port) : "";
    return fmt::format("namespaces {} in {}, serving {}{}{}",
                       o.patterns.empty() ? "(none)" : join(o.patterns), o.netns_dir,
                       join(addresses), ke, routers);
}
}  // namespace

Expected<std::unique_ptr<TenantRunner>> TenantRunner::prepare(const Config& config) {
    const server::TenantNetworkOptions options = tenant_options(config);
    std::unique_ptr<TenantRunner> role(new TenantRunner(options));
    role->max_series_ = config.metrics.max_tenant_series;
    if (!config.user.empty()) {
        auto channel = sys::make_channel();
        if (!channel) {
            return channel.failure();
        }
        auto pid = sys::spawn_child([&] {
            channel->first.reset();
            // Namespaces (setns), addresses and nftables, port 123: nothing else.
            if (auto kept = sys::keep_only_capabilities({sys::Capability::sys_admin,
                                                         sys::Capability::net_admin,
                                                         sys::Capability::net_bind_service});
                !kept) {
                spdlog::critical("tenant networks helper: {}", kept.error());
                return 1;
            }
            return server::run_tenant_helper(options, std::move(channel->second));
        });
        if (!pid) {
            return pid.failure();
        }
        role->helper_ = *pid;
        role->channel_ = std::move(channel->first);
    }
    spdlog::info("tenant networks: {}{}", describe(options),
                 role->helper_ ? fmt::format(" (privileged helper, pid {})", *role->helper_)
                               : std::string(" (in this process)"));
    return role;
}

Status TenantRunner::start(server::NtpServer& ntp, server::NtsKeService* key_establishment) {
    registry_ = std::make_unique<server::TenantRegistry>(ntp, max_series_, key_establishment);
    if (helper_) {
        auto receiver = server::TenantChannelReceiver::start(std::move(channel_), *registry_);
        if (!receiver) {
            return receiver.failure();
        }
        receiver_ = std::move(receiver).value();
        return Done{};
    }
    auto tenants = server::TenantNetworks::start(options_, *registry_);
    if (!tenants) {
        return tenants.failure();
    }
    tenants_ = std::move(tenants).value();
    return Done{};
}

TenantRunner::~TenantRunner() {
    tenants_.reset();   // releases every namespace into the registry
    receiver_.reset();  // closes the channel: the helper exits
    registry_.reset();  // takes the remaining sockets back from the workers
    if (helper_) {
        channel_.reset();
        const int status = sys::reap_child(*helper_);
        if (status != 0) {
            spdlog::warn("tenant helper exited with status {}", status);
        }
    }
}

std::string TenantRunner::helper_end() {
    if (!helper_) {
        return "no helper";
    }
    std::string how = sys::await_child_end(*helper_, kHelperGraceMs).description;
    spdlog::error("tenant networks: the privileged helper (pid {}) ended ({})", *helper_, how);
    helper_.reset();
    return how;
}

Status TenantRunner::reconfigure(const Config& config) {
    max_series_ = config.metrics.max_tenant_series;
    if (registry_) {
        registry_->set_max_series(max_series_);
    }
    server::TenantNetworkOptions next = tenant_options(config);
    if (next == options_) {
        return Done{};
    }
    if (receiver_) {
        if (auto sent = receiver_->reconfigure(next); !sent) {
            return sent;
        }
    }
    spdlog::info("reload: tenant networks: {}", describe(next));
    if (tenants_) {
        tenants_->reconfigure(next);
    }
    options_ = std::move(next);
    return Done{};
}

void TenantRunner::reconcile() const {
    if (tenants_) {
        tenants_->reconcile();
    }
    if (receiver_) {
        receiver_->reconcile();
    }
}

server::TenantMetrics TenantRunner::metrics() const {
    if (!registry_) {
        return {};
    }
    return registry_->metrics([this](const std::string& name) {
        return server::matches_any(options_.router_patterns, name);
    });
}

std::vector<server::TenantNetworkStatus> TenantRunner::status() const {
    return registry_ ? registry_->status() : std::vector<server::TenantNetworkStatus>{};
}

void TenantRunner::log_status() const {
    if (!registry_) {
        return;
    }
    for (const auto& s : registry_->status()) {
        spdlog::info("tenant network {}: on {} received={} answered={}", s.name,
                     s.addresses.empty() ? "-" : join(s.addresses), s.received, s.answered);
    }
}

}  // namespace cloudtime::daemon
