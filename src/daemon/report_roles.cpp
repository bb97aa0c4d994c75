// SPDX-License-Identifier: Apache-2.0
#include "daemon/report_roles.hpp"

#include <exception>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "daemon/status.hpp"
#include "metrics/metrics.hpp"
#include "sys/clock.hpp"

namespace cloudtime::daemon {

std::string status_json(const RoleList& roles, const ReloadRecord& reloads, proto::UnixTime started,
                        proto::UnixTime now) {
    nlohmann::json doc = nlohmann::json::object();
    add_daemon_status(doc, reloads, started, now);
    for (const Role* role : roles) {
        role->add_status(doc, now);
    }
    return doc.dump(2) + "\n";
}

Expected<std::string> metrics_text(const RoleList& roles, proto::UnixTime started,
                                   proto::UnixTime now) {
    try {
        metrics::Exposition e;
        process_metrics(e, started);
        for (const Role* role : roles) {
            role->add_metrics(e, now);
        }
        return e.text();
    } catch (const std::exception& failure) {
        return Error{std::string("metrics: ") + failure.what()};
    }
}

Expected<std::unique_ptr<StatusRole>> StatusRole::listen(const std::string& path,
                                                         const RoleList& roles,
                                                         const ReloadRecord& reloads,
                                                         proto::UnixTime started) {
    auto listening = sys::UnixListener::listen(path);
    if (!listening) {
        return Error{"status socket: " + listening.error() + " (status.socket = \"\" for none)"};
    }
    return std::unique_ptr<StatusRole>(
        new StatusRole(std::move(listening).value(), path, roles, reloads, started));
}

Status StatusRole::start() {
    spdlog::info("status: cloudtime status --socket {}", path_);
    return Done{};
}

std::optional<int> StatusRole::on_readable() {
    if (auto s = listener_.answer(status_json(roles_, reloads_, started_, sys::realtime_now()));
        !s) {
        spdlog::debug("status: {}", s.error());
    }
    return std::nullopt;
}

std::optional<int> MetricsRole::on_readable() {
    endpoint_->answer(metrics_text(roles_, started_, sys::realtime_now()));
    return std::nullopt;
}

}  // namespace cloudtime::daemon
