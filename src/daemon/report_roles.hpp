// SPDX-License-Identifier: Apache-2.0
// The roles that show the others: the status socket (`cloudtime status`) and the metrics
// endpoint (Prometheus). Each renders, on the main thread, what every role adds.
#pragma once

#include <memory>
#include <string>

#include "daemon/reload.hpp"
#include "daemon/role.hpp"
#include "metrics/metrics_endpoint.hpp"
#include "net/unix_listener.hpp"

namespace cloudtime::daemon {

// The whole status document: version, pid, reloads, then what each role adds.
std::string status_json(const RoleList& roles, const ReloadRecord& reloads, proto::UnixTime started,
                        proto::UnixTime now);
// The whole exposition text: the process's families, then each role's (an error only if a
// name is one Prometheus refuses).
Expected<std::string> metrics_text(const RoleList& roles, proto::UnixTime started,
                                   proto::UnixTime now);

class StatusRole final : public Role {
  public:
    // Listens (as root: /run/cloudtime belongs to it). `roles` and `reloads` are read at
    // each request; they outlive this role.
    static Expected<std::unique_ptr<StatusRole>> listen(const std::string& path,
                                                        const RoleList& roles,
                                                        const ReloadRecord& reloads,
                                                        proto::UnixTime started);
    Status start() override;
    int fd() const override { return listener_.fd(); }
    std::optional<int> on_readable() override;

  private:
    StatusRole(sys::UnixListener listener, std::string path, const RoleList& roles,
               const ReloadRecord& reloads, proto::UnixTime started)
        : listener_(std::move(listener)),
          path_(std::move(path)),
          roles_(roles),
          reloads_(reloads),
          started_(started) {}
    sys::UnixListener listener_;
    std::string path_;
    const RoleList& roles_;
    const ReloadRecord& reloads_;
    proto::UnixTime started_;
};

class MetricsRole final : public Role {
  public:
    // `roles` are read at each scrape; they outlive this role.
    MetricsRole(std::unique_ptr<MetricsEndpoint> endpoint, const RoleList& roles,
                proto::UnixTime started)
        : endpoint_(std::move(endpoint)), roles_(roles), started_(started) {}
    int fd() const override { return endpoint_->fd(); }
    std::optional<int> on_readable() override;

  private:
    std::unique_ptr<MetricsEndpoint> endpoint_;
    const RoleList& roles_;
    proto::UnixTime started_;
};

}  // namespace cloudtime::daemon
