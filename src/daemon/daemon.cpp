#include "daemon/daemon.hpp"

#include <chrono>
#include <csignal>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "clock/chrony_source.hpp"
#include "clock/clock_keeper.hpp"
#include "clock/clock_source.hpp"
#include "daemon/preflight.hpp"
#include "daemon/reload.hpp"
#include "daemon/single_instance.hpp"
#include "daemon/status.hpp"
#include "metrics/metrics.hpp"
#include "metrics/metrics_endpoint.hpp"
#include "net/unix_listener.hpp"
#include "nts/nts_role.hpp"
#include "peers/chrony_control.hpp"
#include "proto/packet.hpp"
#include "serve/ntp_server.hpp"
#include "serve/snapshot_cell.hpp"
#include "sys/clock.hpp"
#include "sys/paths.hpp"
#include "sys/poller.hpp"
#include "sys/privileges.hpp"
#include "sys/resource_limits.hpp"
#include "sys/seccomp_filter.hpp"
#include "sys/service_manager.hpp"
#include "sys/signals.hpp"
#include "tenant/tenant_role.hpp"

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

// Logs only changes of synchronization state, not every refresh.
void log_transition(const proto::ClockSnapshot& previous, const proto::ClockSnapshot& now,
                    bool first) {
    if (!first && previous.smear.active != now.smear.active) {
        if (now.smear.active) {
            spdlog::warn("leap smear: serving smeared time until {} s after the leap",
                         now.smear.duration_s - now.smear.start_before_s);
        } else {
            spdlog::info("leap smear: over, serving the system clock again");
        }
    }
    if (!first && previous.synchronized == now.synchronized && previous.leap == now.leap) {
        return;
    }
    if (now.synchronized) {
        spdlog::info("clock synchronized: stratum {}, leap {}, root dispersion {:.6f} s",
                     now.stratum, proto::leap_name(now.leap), now.root_dispersion_s);
    } else {
        spdlog::warn("clock NOT synchronized: answering with LI=3 and stratum 0 until it is");
    }
}

// Warns, at most once a minute and with numbers, when descriptors run short: tenant networks
// that come then cannot be served. The limit is read at each check: an operator may raise it
// (or lower it) while the daemon runs, with prlimit --pid. (HTTP connections live in the
// vendordata process, with a limit of their own, and cannot eat these.)
class FileBudget {
  public:
    void check() {
        const auto limit = sys::open_files_limit();
        if (!limit || limit->soft > kNoShortage) {
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        const std::size_t open = sys::open_file_count();
        if (open * 100 < limit->soft * kShortPercent || (warned_ && now - *warned_ < kWarnEvery)) {
            return;
        }
        spdlog::warn(
            "open files: {} of {} in use (over {} %): new tenant networks may not be served; "
            "raise the limit (LimitNOFILE=)",
            open, limit->soft, kShortPercent);
        warned_ = now;
    }

  private:
    static constexpr std::uint64_t kShortPercent = 90;
    // A limit so large (unlimited) that no process reaches it; its percentage would overflow.
    static constexpr std::uint64_t kNoShortage = std::numeric_limits<std::uint64_t>::max() / 100;
    static constexpr auto kWarnEvery = std::chrono::minutes(1);
    std::optional<std::chrono::steady_clock::time_point> warned_;
};

std::int64_t unix_seconds() {
    return sys::realtime_now().ns / 1'000'000'000;
}

// systemctl status's line: what is served and whether it is true time.
std::string service_status(const server::NtpServer& ntp, const proto::ClockSnapshot& clock) {
    return fmt::format("serving NTP on {} address{}; {}", ntp.bound_addresses().size(),
                       ntp.bound_addresses().size() == 1 ? "" : "es",
                       clock.synchronized
                           ? fmt::format("clock synchronized, stratum {}", clock.stratum)
                           : std::string("clock NOT synchronized: serving LI=3"));
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
    const auto checked = preflight(config);
    if (!checked) {
        spdlog::critical("{}", checked.error());
        return 1;
    }
    for (const auto& warning : checked->warnings) {
        spdlog::warn("{}", warning);
    }
    if (auto alone = check_single_instance(config); !alone) {
        spdlog::critical("{}", alone.error());
        return 1;
    }
    // Before the clock source's first socket.
    if (auto made = sys::make_runtime_directory(config.runtime_directory); !made) {
        spdlog::critical("server.runtime_directory: {}", made.error());
        return 1;
    }
    for (const auto& stale : sys::ChronyControl::remove_stale_clients(config.runtime_directory)) {
        spdlog::info("removed {}, left by a cloudtimed that was killed", stale);
    }
    // Tenant networks take descriptors as they come: allow as many as the system lets us.
    const auto files = sys::raise_open_files_limit();
    if (files) {
        spdlog::info("open files: up to {} (the hard limit)", files->soft);
    } else {
        spdlog::warn("open files: {}", files.error());
    }
    FileBudget budget;
    const double precision_s = sys::measure_clock_precision();
    const std::int8_t precision = proto::precision_exponent(precision_s);
    const ClockSourceKind kind = resolve_source(config);
    server::ClockKeeper keeper(make_clock_source(config, kind, *checked, precision),
                               keeper_options(config));
    spdlog::info("clock source: {}{}", keeper.describe(),
                 config.holdover_s > 0.0 ? fmt::format("; holdover {} s", config.holdover_s)
                                         : std::string("; no holdover"));
    if (config.leap_mode == proto::LeapMode::smear) {
        spdlog::info(
            "leap.mode = \"smear\": leap seconds are smeared over {} s ({}); clients must not "
            "mix this server with servers that do not smear",
            config.smear.duration_s,
            config.smear.shape == proto::SmearShape::linear ? "linear" : "cosine");
    }
    keeper.reload_leap_seconds(sys::realtime_now());
    if (kind == ClockSourceKind::local) {
        spdlog::warn(
            "clock.source = \"local\" serves this host's clock as synchronized whatever "
            "its state: for labs and tests only");
    }

    server::SnapshotCell cell;
    proto::ClockSnapshot snapshot = keeper.refresh(sys::realtime_now());
    cell.publish(snapshot);
    log_transition(snapshot, snapshot, true);

    const server::ServerOptions options = server_options(config);
    if (!config.access_rules.empty() || config.access_default != proto::AccessAction::allow) {
        spdlog::info("access list: {} rules, default {}", config.access_rules.size(),
                     proto::access_action_name(config.access_default));
    }
    // The helper that enters namespaces is forked before any socket or thread exists.
    std::unique_ptr<TenantRole> tenants;
    if (config.tenant_networks.enabled) {
        auto prepared = TenantRole::prepare(config);
        if (!prepared) {
            spdlog::critical("cannot follow tenant networks: {}", prepared.error());
            return 1;
        }
        tenants = std::move(prepared).value();
    }
    auto bound = server::NtpServer::bind(options, cell);
    if (!bound) {
        spdlog::critical("cannot start the NTP server: {}", bound.error());
        return 1;
    }
    server::NtpServer& ntp = **bound;
    // Before dropping privileges: the certificate's key may be readable by root only.
    std::unique_ptr<NtsRole> nts;
    if (config.nts.enabled) {
        auto prepared = NtsRole::prepare(config.nts, ntp.bound_addresses(), *checked->nts_tls,
                                         checked->nts_etcd.value_or(sys::EtcdOptions{}));
        if (!prepared) {
            spdlog::critical("{}", prepared.error());
            return 1;
        }
        nts = std::move(prepared).value();
    }
    // Before dropping privileges: it binds (maybe a port below 1024) and re-executes this
    // program as root, to drop to its own user. (The TLS key was read in preflight, as root.)
    std::unique_ptr<VendordataProcess> vendordata;
    if (config.vendordata.enabled) {
        auto started = VendordataProcess::start(config, running.source, checked->vendordata_tls);
        if (!started) {
            spdlog::critical("{}", started.error());
            return 1;
        }
        vendordata = std::move(started).value();
        spdlog::info(
            "vendordata for Nova's DynamicJSON provider at {} (nova.conf: [api] "
            "vendordata_dynamic_targets = cloud-init@{})",
            vendordata->url(), vendordata->url());
    }
    // Before dropping privileges: its directory (/run/cloudtime) belongs to root.
    std::optional<sys::UnixListener> status;
    if (!config.status_socket.empty()) {
        auto listening = sys::UnixListener::listen(config.status_socket);
        if (!listening) {
            spdlog::critical("status socket: {} (status.socket = \"\" for none)",
                             listening.error());
            return 1;
        }
        status.emplace(std::move(listening).value());
    }
    std::unique_ptr<MetricsEndpoint> metrics;
    if (config.metrics.enabled) {
        auto started = MetricsEndpoint::start(config.metrics);
        if (!started) {
            spdlog::critical("{}", started.error());
            return 1;
        }
        metrics = std::move(started).value();
        spdlog::info("metrics: Prometheus text format at {}", metrics->url());
    }
    if (!config.user.empty()) {
        // After the drop, the chrony client makes its sockets there, and removes them at stop.
        if (auto given = sys::hand_over_directory(config.runtime_directory, config.user); !given) {
            spdlog::critical("server.runtime_directory: {}", given.error());
            return 1;
        }
        if (auto dropped = sys::drop_privileges(config.user); !dropped) {
            spdlog::critical("cannot drop privileges to user '{}': {}", config.user,
                             dropped.error());
            return 1;
        }
        spdlog::info("running as user '{}' with no capabilities", config.user);
    } else if (!sys::running_as_root()) {
        spdlog::info("running as uid {} (not started as root: no privileges to drop)",
                     sys::user_id());
    }
    ntp.start();
    if (nts) {
        const auto to_workers = [&ntp](std::shared_ptr<const proto::CookieKeyring> keys) {
            ntp.set_nts_keys(std::move(keys));
        };
        if (auto started = nts->start(unix_seconds, to_workers); !started) {
            spdlog::critical("{}", started.error());
            return 1;
        }
    }
    for (const auto& address : ntp.bound_addresses()) {
        spdlog::info(
            "serving NTP on udp {} ({} threads, kernel receive buffer {} KiB per socket, clock "
            "precision 2^{} s)",
            address.to_string(), ntp.thread_count(), ntp.receive_buffer() / 1024,
            static_cast<int>(precision));
    }
    if (config.rate_limit.enabled) {
        const auto& r = config.rate_limit;
        spdlog::info(
            "rate limit per source: 1 request per {} s, burst {}, leak 1/2^{}, KoD {}; "
            "table {} KiB",
            r.interval_s, r.burst, r.leak,
            r.kod < 0 ? std::string("never") : "1/2^" + std::to_string(r.kod),
            ntp.rate_limit_table_bytes() / 1024);
    } else {
        spdlog::info("rate limiting is off");
    }
    if (config.interleaved) {
        spdlog::info(
            "interleaved mode on: {} records ({} KiB); transmit times from kernel software "
            "timestamps (hardware timestamps are not used)",
            ntp.interleaved_records(), ntp.interleaved_table_bytes() / 1024);
    } else {
        spdlog::info("interleaved mode is off: basic mode only");
    }
    spdlog::info("query it with: cloudtime query {}", ntp.bound_addresses().front().to_string());

    if (tenants) {
        if (auto started = tenants->start(ntp, nts ? &nts->key_establishment() : nullptr);
            !started) {
            spdlog::critical("cannot follow tenant networks: {}", started.error());
            return 1;
        }
    }

    if (status) {
        spdlog::info("status: cloudtime status --socket {}", config.status_socket);
    }
    const std::string source_name = clock_source_name(kind);
    // Last, once every socket, thread and child exists: from here on only the system calls
    // cloudtimed makes are allowed.
    if (config.seccomp) {
        auto filtered = sys::restrict_system_calls(sys::SyscallProfile::daemon);
        if (!filtered) {
            spdlog::critical("{} (server.seccomp = false runs without the filter)",
                             filtered.error());
            return 1;
        }
        spdlog::info("seccomp: {} system calls allowed; any other ends the process", *filtered);
    }
    if (run_options.forbidden_call_after_start) {
        spdlog::warn("making a forbidden system call, as asked (a test)");
        sys::make_forbidden_call();
        spdlog::warn("the forbidden system call returned: no filter is installed");
    }

    service.ready(service_status(ntp, snapshot));
    if (service.watchdog_interval()) {
        spdlog::info("watchdog: pinging the service manager every {} ms",
                     service.watchdog_interval()->count() / 2000);
    }

    // Refresh on a fixed schedule, however many signals arrive in between.
    auto next_refresh = std::chrono::steady_clock::now() + kRefreshInterval;
    int exit_code = 0;
    for (bool stop = false; !stop;) {
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
            next_refresh - std::chrono::steady_clock::now());
        const int ready = wait.count() > 0
                              ? sys::wait_readable_any({signals->fd(), status ? status->fd() : -1,
                                                        vendordata ? vendordata->fd() : -1,
                                                        tenants ? tenants->helper_lost_fd() : -1,
                                                        metrics ? metrics->fd() : -1},
                                                       static_cast<int>(wait.count()))
                              : -1;
        if (tenants && ready >= 0 && ready == tenants->helper_lost_fd()) {
            // Serving on without it would look healthy while no new tenant network is ever
            // served: exit non-zero so that the service manager starts everything again.
            tenants->helper_end();
            spdlog::critical(
                "tenant networks cannot be followed without the privileged helper: stopping "
                "(exit status 1) to be started again");
            exit_code = 1;
            break;
        }
        if (vendordata && ready >= 0 && ready == vendordata->fd()) {
            vendordata->on_readable();
            continue;
        }
        if (metrics && ready == metrics->fd()) {
            metrics->answer(metrics_text({.ntp = ntp,
                                          .clock = snapshot,
                                          .keeper = keeper,
                                          .clock_source = source_name,
                                          .tenants = tenants.get(),
                                          .vendordata = vendordata.get(),
                                          .nts = nts.get(),
                                          .started = started_at},
                                         sys::realtime_now()));
            continue;
        }
        if (status && ready == status->fd()) {
            if (auto s = status->answer(status_json(ntp, snapshot, source_name, tenants.get(),
                                                    vendordata.get(), nts.get(), reloads));
                !s) {
                spdlog::debug("status: {}", s.error());
            }
            continue;
        }
        if (ready == signals->fd()) {
            while (const auto sig = signals->next()) {
                if (*sig == SIGUSR1) {
                    if (tenants) {
                        tenants->log_status();
                    }
                    spdlog::info("counters: {}", ntp.totals().to_string());
                } else if (*sig == SIGHUP) {
                    service.reloading();
                    reload(loader, config, running,
                           {.ntp = ntp,
                            .keeper = keeper,
                            .vendordata = vendordata.get(),
                            .tenants = tenants.get(),
                            .nts = nts.get()},
                           reloads);
                    if (tenants) {
                        tenants->reconcile();
                    }
                    service.ready(service_status(ntp, snapshot));
                } else {
                    spdlog::info("{} received, stopping", strsignal(*sig));
                    service.stopping();
                    stop = true;
                }
            }
            continue;
        }
        next_refresh += kRefreshInterval;
        service.keep_alive();
        budget.check();
        if (vendordata) {
            vendordata->on_tick();
        }
        if (nts) {
            nts->tick(unix_seconds());
        }
        const proto::ClockSnapshot next = keeper.refresh(sys::realtime_now());
        log_transition(snapshot, next, false);
        if (next.synchronized != snapshot.synchronized) {
            service.status(service_status(ntp, next));
        }
        snapshot = next;
        cell.publish(snapshot);
    }
    tenants.reset();  // takes every tenant network's sockets back before the workers stop
    ntp.stop();
    spdlog::info("counters: {}", ntp.totals().to_string());
    return exit_code;
}

}  // namespace cloudtime::daemon
