// SPDX-License-Identifier: Apache-2.0
#include "daemon/serving_roles.hpp"

#include <algorithm>
#include <cerrno>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "daemon/reload.hpp"
#include "daemon/status.hpp"
#include "metrics/metrics.hpp"
#include "sys/clock.hpp"
#include "sys/resource_limits.hpp"

namespace cloudtime::daemon {

namespace {

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

}  // namespace

ClockRole::ClockRole(std::unique_ptr<server::ClockSource> source, const Config& config,
                     std::string source_name)
    : keeper_(std::move(source), keeper_options(config)), source_name_(std::move(source_name)) {
    keeper_.reload_leap_seconds(sys::realtime_now());
    snapshot_ = keeper_.refresh(sys::realtime_now());
    cell_.publish(snapshot_);
    log_transition(snapshot_, snapshot_, true);
}

void ClockRole::tick() {
    const proto::ClockSnapshot next = keeper_.refresh(sys::realtime_now());
    log_transition(snapshot_, next, false);
    snapshot_ = next;
    cell_.publish(snapshot_);
}

Expected<RoleReload> ClockRole::apply_reload(const LoadedConfig& next, const Config& /*running*/) {
    keeper_.reconfigure(keeper_options(next.config));
    keeper_.reload_leap_seconds(sys::realtime_now());
    return RoleReload{
        .applied = fmt::format("leap {}",
                               next.config.leap_mode == proto::LeapMode::smear ? "smear" : "pass"),
        .restart_needed = {}};
}

void ClockRole::add_status(nlohmann::json& doc, proto::UnixTime now) const {
    add_clock_status(doc, snapshot_, source_name_, now);
}

void ClockRole::add_metrics(metrics::Exposition& e, proto::UnixTime now) const {
    clock_metrics(e, snapshot_, keeper_, source_name_, now);
}

Expected<std::unique_ptr<NtpRole>> NtpRole::bind(const Config& config,
                                                 const server::SnapshotCell& clock,
                                                 std::int8_t precision) {
    auto bound = server::NtpServer::bind(server_options(config), clock);
    if (!bound) {
        // EACCES on a bind: a port below 1024 without the right to it.
        const bool privileged_port =
            bound.error_code() == EACCES &&
            std::ranges::any_of(config.listen, [](const sys::SocketAddress& a) {
                return a.port() != 0 && a.port() < 1024;
            });
        return Error{"cannot start the NTP server: " + bound.error() +
                         (privileged_port ? " (a port below 1024 needs root or "
                                            "CAP_NET_BIND_SERVICE: start cloudtimed as root, "
                                            "which drops to server.user once bound, or listen on a "
                                            "port from 1024 up)"
                                          : ""),
                     bound.error_code()};
    }
    return std::unique_ptr<NtpRole>(new NtpRole(std::move(bound).value(), config, precision));
}

Status NtpRole::start() {
    server_->start();
    for (const auto& address : server_->bound_addresses()) {
        spdlog::info(
            "serving NTP on udp {} ({} threads, kernel receive buffer {} KiB per socket, clock "
            "precision 2^{} s)",
            address.to_string(), server_->thread_count(), server_->receive_buffer() / 1024,
            static_cast<int>(precision_));
    }
    if (rate_limit_.enabled) {
        const auto& r = rate_limit_;
        spdlog::info(
            "rate limit per source: 1 request per {} s, burst {}, leak 1/2^{}, KoD {}; "
            "table {} KiB",
            r.interval_s, r.burst, r.leak,
            r.kod < 0 ? std::string("never") : "1/2^" + std::to_string(r.kod),
            server_->rate_limit_table_bytes() / 1024);
    } else {
        spdlog::info("rate limiting is off");
    }
    if (interleaved_) {
        spdlog::info(
            "interleaved mode on: {} records ({} KiB); transmit times from kernel software "
            "timestamps (hardware timestamps are not used)",
            server_->interleaved_records(), server_->interleaved_table_bytes() / 1024);
    } else {
        spdlog::info("interleaved mode is off: basic mode only");
    }
    spdlog::info("query it with: cloudtime query {}",
                 server_->bound_addresses().front().to_string());
    return Done{};
}

Expected<RoleReload> NtpRole::apply_reload(const LoadedConfig& next, const Config& /*running*/) {
    const Config& c = next.config;
    auto options = server_options(c);
    auto updated = server_->update(options);
    // A new port below 1024 that this process (no longer root) may not bind: everything else
    // is applied on the addresses served now, and a restart binds it.
    RoleReload done;
    if (!updated && updated.error_code() == EACCES) {
        options.listen = server_->configured_addresses();
        updated = server_->update(options);
        done.restart_needed.emplace_back("server.listen");
    }
    if (!updated) {
        return Error{updated.error()};
    }
    std::vector<std::string> listen;
    for (const auto& a : server_->bound_addresses()) {
        listen.push_back(a.to_string());
    }
    done.applied = fmt::format(
        "NTP on {}; access list {} rules, default {}; rate limit {}", fmt::join(listen, ", "),
        c.access_rules.size(), proto::access_action_name(c.access_default),
        c.rate_limit.enabled
            ? fmt::format("1 per {} s, burst {}", c.rate_limit.interval_s, c.rate_limit.burst)
            : std::string("off"));
    return done;
}

void NtpRole::log_state() const {
    spdlog::info("counters: {}", server_->totals().to_string());
}

void NtpRole::add_status(nlohmann::json& doc, proto::UnixTime /*now*/) const {
    add_ntp_status(doc, *server_);
}

void NtpRole::add_metrics(metrics::Exposition& e, proto::UnixTime /*now*/) const {
    ntp_metrics(e, *server_);
}

void NtpRole::stop() {
    if (!stopped_) {
        server_->stop();
        stopped_ = true;
        log_state();
    }
}

void FileBudget::tick() {
    constexpr std::uint64_t kShortPercent = 90;
    // A limit so large (unlimited) that no process reaches it; its percentage would overflow.
    constexpr std::uint64_t kNoShortage = std::numeric_limits<std::uint64_t>::max() / 100;
    constexpr auto kWarnEvery = std::chrono::minutes(1);
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
        "open files: {} of {} in use (over {} %): new tenant networks may not be served; raise "
        "the limit (LimitNOFILE=)",
        open, limit->soft, kShortPercent);
    warned_ = now;
}

}  // namespace cloudtime::daemon
