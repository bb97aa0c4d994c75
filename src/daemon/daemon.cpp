// SPDX-License-Identifier: Apache-2.0
#include "daemon/daemon.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "clock/chrony_source.hpp"
#include "clock/clock_source.hpp"
#include "daemon/attached_roles.hpp"
#include "daemon/preflight.hpp"
#include "daemon/reload.hpp"
#include "daemon/report_roles.hpp"
#include "daemon/serving_roles.hpp"
#include "daemon/single_instance.hpp"
#include "peers/chrony_control.hpp"
#include "proto/packet.hpp"
#include "sys/clock.hpp"
#include "sys/paths.hpp"
#include "sys/poller.hpp"
#include "sys/privileges.hpp"
#include "sys/resource_limits.hpp"
#include "sys/seccomp_filter.hpp"
#include "sys/service_manager.hpp"
#include "sys/signals.hpp"

namespace cloudtime::daemon {

using config::ClockSourceKind;

namespace {

constexpr std::chrono::milliseconds kRefreshInterval{1000};

ClockSourceKind resolve_source(const Config& c) {
    if (c.clock_source != ClockSourceKind::automatic) {
        return c.clock_source;
    }
    const auto kind = sys::file_kind(c.chrony_socket);
    const bool chrony_there = kind && *kind == sys::FileKind::socket;
    spdlog::info("clock.source = \"auto\": {} {}, so the source is {}", c.chrony_socket,
                 chrony_there ? "exists" : "does not exist", chrony_there ? "chrony" : "kernel");
    return chrony_there ? ClockSourceKind::chrony : ClockSourceKind::kernel;
}

std::unique_ptr<server::ClockSource> make_clock_source(const Config& c, ClockSourceKind kind,
                                                       const Preflight& checked,
                                                       std::int8_t precision) {
    switch (kind) {
        case ClockSourceKind::local:
            return std::make_unique<server::LocalClockSource>(
                server::StaticIdentity{c.local_stratum, c.local_refid, precision});
        case ClockSourceKind::chrony:
            if (checked.chrony_over_udp) {
                spdlog::info(
                    "clock: user '{}' cannot write to {} (chrony lets only root and its own "
                    "user send commands there): asking chronyd on its command port {}, "
                    "monitoring commands only",
                    c.user, c.chrony_socket, checked.chrony_over_udp->to_string());
                return std::make_unique<server::ChronyClockSource>(
                    sys::ChronyControl(*checked.chrony_over_udp), precision);
            }
            return std::make_unique<server::ChronyClockSource>(
                sys::ChronyControl(c.chrony_socket, c.runtime_directory), precision);
        default:
            return std::make_unique<server::KernelClockSource>(
                server::StaticIdentity{c.kernel_stratum, c.kernel_refid, precision});
    }
}

// systemctl status's line: what is served and whether it is true time.
std::string service_status(const server::NtpServer& ntp, const proto::ClockSnapshot& clock) {
    return fmt::format("serving NTP on {} address{}; {}", ntp.bound_addresses().size(),
                       ntp.bound_addresses().size() == 1 ? "" : "es",
                       clock.synchronized
                           ? fmt::format("clock synchronized, stratum {}", clock.stratum)
                           : std::string("clock NOT synchronized: serving LI=3"));
}

// What is checked and made before any role: the preflight checks, one instance per address,
// the runtime directory, and as many descriptors as the system lets us have (tenant networks
// take them as they come).
Expected<Preflight> prepare_process(const Config& config) {
    auto checked = preflight(config);
    if (!checked) {
        return Error{checked.error()};
    }
    for (const auto& warning : checked->warnings) {
        spdlog::warn("{}", warning);
    }
    if (auto alone = check_single_instance(config); !alone) {
        return Error{alone.error()};
    }
    // Before the clock source's first socket.
    if (auto made = sys::make_runtime_directory(config.runtime_directory); !made) {
        return Error{"server.runtime_directory: " + made.error()};
    }
    for (const auto& stale : sys::ChronyControl::remove_stale_clients(config.runtime_directory)) {
        spdlog::info("removed {}, left by a cloudtimed that was killed", stale);
    }
    if (const auto files = sys::raise_open_files_limit(); files) {
        spdlog::info("open files: up to {} (the hard limit)", files->soft);
    } else {
        spdlog::warn("open files: {}", files.error());
    }
    return checked;
}

// The roles a config asks for, owned here and listed in the order they start, reload and tick
// (the NTP server first: its reload is the one that can fail). The clock outlives the NTP
// server, which reads its cell; the others stop and go in the reverse of their order.
struct Roles {
    Roles() = default;
    Roles(const Roles&) = delete;  // the report roles hold a reference to `list`
    Roles& operator=(const Roles&) = delete;
    ~Roles() {
        list.clear();
        while (!attached.empty()) {
            attached.pop_back();
        }
    }
    void attach(std::unique_ptr<Role> role) {
        list.push_back(role.get());
        attached.push_back(std::move(role));
    }
    std::unique_ptr<ClockRole> clock;
    std::unique_ptr<NtpRole> ntp;
    std::vector<std::unique_ptr<Role>> attached;
    RoleList list;
};

std::unique_ptr<ClockRole> make_clock(const Config& config, const Preflight& checked,
                                      std::int8_t precision) {
    const ClockSourceKind kind = resolve_source(config);
    auto clock = std::make_unique<ClockRole>(make_clock_source(config, kind, checked, precision),
                                             config, clock_source_name(kind));
    spdlog::info("clock source: {}{}", clock->describe(),
                 config.holdover_s > 0.0 ? fmt::format("; holdover {} s", config.holdover_s)
                                         : std::string("; no holdover"));
    if (config.leap_mode == proto::LeapMode::smear) {
        spdlog::info(
            "leap.mode = \"smear\": leap seconds are smeared over {} s ({}); clients must not "
            "mix this server with servers that do not smear",
            config.smear.duration_s,
            config.smear.shape == proto::SmearShape::linear ? "linear" : "cosine");
    }
    if (kind == ClockSourceKind::local) {
        spdlog::warn(
            "clock.source = \"local\" serves this host's clock as synchronized whatever "
            "its state: for labs and tests only");
    }
    return clock;
}

// NTS, tenant networks and vendordata, as the config asks. The tenant helper was forked before
// any socket existed; NTS reads its certificate's key (maybe root's only) and vendordata binds
// (maybe below 1024) before the privileges are dropped.
Status attach_optional_roles(Roles& roles, std::unique_ptr<TenantRunner> tenants,
                             const LoadedConfig& running, const Preflight& checked) {
    const Config& config = running.config;
    server::NtpServer& ntp = roles.ntp->server();
    server::NtsKeService* key_establishment = nullptr;
    if (config.nts.enabled) {
        auto prepared = NtsRunner::prepare(config.nts, ntp.bound_addresses(), *checked.nts_tls,
                                           checked.nts_etcd.value_or(sys::EtcdOptions{}));
        if (!prepared) {
            return Error{prepared.error()};
        }
        auto nts = std::make_unique<NtsRole>(std::move(prepared).value(), ntp);
        key_establishment = &nts->key_establishment();
        roles.attach(std::move(nts));
    }
    if (tenants) {
        roles.attach(std::make_unique<TenantRole>(std::move(tenants), ntp, key_establishment));
    }
    if (config.vendordata.enabled) {
        auto started = VendordataProcess::start(config, running.source, checked.vendordata_tls);
        if (!started) {
            return Error{started.error()};
        }
        spdlog::info(
            "vendordata for Nova's DynamicJSON provider at {} (nova.conf: [api] "
            "vendordata_dynamic_targets = cloud-init@{})",
            (*started)->url(), (*started)->url());
        roles.attach(std::make_unique<VendordataRole>(std::move(started).value()));
    }
    return Done{};
}

// Every role the config asks for, made while root, in `roles`.
Status make_roles(Roles& roles, const LoadedConfig& running, const Preflight& checked,
                  const ReloadRecord& reloads, proto::UnixTime started_at) {
    const Config& config = running.config;
    const std::int8_t precision = proto::precision_exponent(sys::measure_clock_precision());
    roles.clock = make_clock(config, checked, precision);
    if (!config.access_rules.empty() || config.access_default != proto::AccessAction::allow) {
        spdlog::info("access list: {} rules, default {}", config.access_rules.size(),
                     proto::access_action_name(config.access_default));
    }
    // The helper that enters namespaces is forked before any socket or thread exists.
    std::unique_ptr<TenantRunner> tenants;
    if (config.tenant_networks.enabled) {
        auto prepared = TenantRunner::prepare(config);
        if (!prepared) {
            return Error{"cannot follow tenant networks: " + prepared.error()};
        }
        tenants = std::move(prepared).value();
    }
    auto ntp = NtpRole::bind(config, roles.clock->cell(), precision);
    if (!ntp) {
        return Error{ntp.error()};
    }
    roles.ntp = std::move(ntp).value();
    roles.list = {roles.ntp.get(), roles.clock.get()};
    if (auto attached = attach_optional_roles(roles, std::move(tenants), running, checked);
        !attached) {
        return attached;
    }
    // Before dropping privileges: its directory (/run/cloudtime) belongs to root.
    if (!config.status_socket.empty()) {
        auto status = StatusRole::listen(config.status_socket, roles.list, reloads, started_at);
        if (!status) {
            return Error{status.error()};
        }
        roles.attach(std::move(status).value());
    }
    if (config.metrics.enabled) {
        auto endpoint = MetricsEndpoint::start(config.metrics);
        if (!endpoint) {
            return Error{endpoint.error()};
        }
        spdlog::info("metrics: Prometheus text format at {}", (*endpoint)->url());
        roles.attach(
            std::make_unique<MetricsRole>(std::move(endpoint).value(), roles.list, started_at));
    }
    roles.attach(std::make_unique<FileBudget>());
    return Done{};
}

// The runtime directory handed to the server's user, then the drop to it.
Status drop_privileges(const Config& config) {
    if (config.user.empty()) {
        if (!sys::running_as_root()) {
            spdlog::info("running as uid {} (not started as root: no privileges to drop)",
                         sys::user_id());
        }
        return Done{};
    }
    // After the drop, the chrony client makes its sockets there, and removes them at stop.
    if (auto given = sys::hand_over_directory(config.runtime_directory, config.user); !given) {
        return Error{"server.runtime_directory: " + given.error()};
    }
    if (auto dropped = sys::drop_privileges(config.user); !dropped) {
        return Error{
            fmt::format("cannot drop privileges to user '{}': {}", config.user, dropped.error())};
    }
    spdlog::info("running as user '{}' with no capabilities", config.user);
    return Done{};
}

// Last, once every socket, thread and child exists: from here on only the system calls
// cloudtimed makes are allowed.
Status filter_system_calls(const Config& config, const RunOptions& run_options) {
    if (config.seccomp) {
        auto filtered = sys::restrict_system_calls(sys::SyscallProfile::daemon);
        if (!filtered) {
            return Error{filtered.error() + " (server.seccomp = false runs without the filter)"};
        }
        spdlog::info("seccomp: {} system calls allowed; any other ends the process", *filtered);
    }
    if (run_options.forbidden_call_after_start) {
        spdlog::warn("making a forbidden system call, as asked (a test)");
        sys::make_forbidden_call();
        spdlog::warn("the forbidden system call returned: no filter is installed");
    }
    return Done{};
}

// What the main loop reads and changes besides the roles.
struct Loop {
    const ConfigLoader& loader;
    const Config& started;  // what a reload compares restart keys with
    LoadedConfig& running;
    ReloadRecord& reloads;
    sys::ServiceManager& service;
    sys::SignalSet& signals;
};

// The signals that came; an exit status when one of them stops the daemon.
std::optional<int> on_signals(Loop& loop, Roles& roles) {
    std::optional<int> stop;
    while (const auto sig = loop.signals.next()) {
        if (*sig == SIGUSR1) {
            for (const Role* role : roles.list) {
                role->log_state();
            }
        } else if (*sig == SIGHUP) {
            loop.service.reloading();
            reload(loop.loader, loop.started, loop.running, roles.list, loop.reloads);
            for (Role* role : roles.list) {
                role->on_hangup();
            }
            loop.service.ready(service_status(roles.ntp->server(), roles.clock->snapshot()));
        } else {
            spdlog::info("{} received, stopping", strsignal(*sig));
            loop.service.stopping();
            stop = 0;
        }
    }
    return stop;
}

// Until a signal or a role stops it: waits on the signals and the roles' descriptors, and
// ticks every role on a fixed schedule, however many events arrive in between.
int serve(Loop& loop, Roles& roles) {
    auto next_tick = std::chrono::steady_clock::now() + kRefreshInterval;
    for (;;) {
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
            next_tick - std::chrono::steady_clock::now());
        if (wait.count() > 0) {
            std::vector<int> fds{loop.signals.fd()};
            for (const Role* role : roles.list) {
                fds.push_back(role->fd());
            }
            const std::vector<bool> ready = sys::ready_among(fds, static_cast<int>(wait.count()));
            if (ready.empty() || std::find(ready.begin(), ready.end(), true) == ready.end()) {
                continue;  // interrupted, or the wait is over: the tick's time is checked above
            }
            if (ready.front()) {
                if (const auto stop = on_signals(loop, roles)) {
                    return *stop;
                }
            }
            for (std::size_t i = 1; i < ready.size(); ++i) {
                if (ready[i]) {
                    if (const auto stop = roles.list[i - 1]->on_readable()) {
                        return *stop;
                    }
                }
            }
            continue;
        }
        next_tick += kRefreshInterval;
        loop.service.keep_alive();
        const bool was_synchronized = roles.clock->snapshot().synchronized;
        for (Role* role : roles.list) {
            role->tick();
        }
        if (roles.clock->snapshot().synchronized != was_synchronized) {
            loop.service.status(service_status(roles.ntp->server(), roles.clock->snapshot()));
        }
    }
}

}  // namespace

int run(const ConfigLoader& loader, LoadedConfig first, RunOptions run_options) {
    sys::ServiceManager service;
    const proto::UnixTime started_at = sys::realtime_now();
    ReloadRecord reloads;
    const Config config = first.config;  // as started: what a reload compares restart keys with
    LoadedConfig running = std::move(first);
    // Block the signals before any thread starts, so that only signalfd sees them.
    auto signals = sys::SignalSet::block({SIGTERM, SIGINT, SIGHUP, SIGUSR1});
    if (!signals) {
        spdlog::critical("{}", signals.error());
        return 1;
    }
    const auto checked = prepare_process(config);
    if (!checked) {
        spdlog::critical("{}", checked.error());
        return 1;
    }
    Roles roles;
    Status ready = make_roles(roles, running, *checked, reloads, started_at);
    if (ready) {
        ready = drop_privileges(config);
    }
    for (auto it = roles.list.begin(); ready && it != roles.list.end(); ++it) {
        ready = (*it)->start();
    }
    if (ready) {
        ready = filter_system_calls(config, run_options);
    }
    if (!ready) {
        spdlog::critical("{}", ready.error());
        return 1;
    }
    service.ready(service_status(roles.ntp->server(), roles.clock->snapshot()));
    if (service.watchdog_interval()) {
        spdlog::info("watchdog: pinging the service manager every {} ms",
                     service.watchdog_interval()->count() / 2000);
    }
    Loop loop{loader, config, running, reloads, service, *signals};
    const int exit_code = serve(loop, roles);
    for (auto it = roles.list.rbegin(); it != roles.list.rend(); ++it) {
        (*it)->stop();
    }
    return exit_code;
}

}  // namespace cloudtime::daemon
