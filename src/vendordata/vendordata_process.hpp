// SPDX-License-Identifier: Apache-2.0
// The vendordata endpoint in its own process, so that nothing a client sends over HTTP can
// take memory, descriptors or CPU time from the NTP workers. cloudtimed binds the address and
// hands it the TLS files it read (as root, in preflight), then runs itself again as that process
// (`cloudtimed
// --vendordata-process`, named cloudtimed-http): it drops to the server's user (or nobody),
// caps its memory and descriptors, and serves. When it ends, cloudtimed logs how at error and
// starts it again on the same socket (1 s, doubling to 30 s while it keeps failing).
#pragma once

#include <sys/types.h>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "http/http_server.hpp"
#include "sys/fd.hpp"
#include "util/expected.hpp"

namespace cloudtime::daemon {

using config::Config;  // the daemon runs what the config schema describes

// What the vendordata process needs to read the same config the daemon read.
struct ConfigSource {
    std::string text;    // the TOML as read
    std::string origin;  // the file's path, or "embedded default" (for FILE:LINE errors)
};

class VendordataProcess {
  public:
    // Binds, starts the process (HTTPS with `tls`, checked by preflight) and waits until it
    // serves; an error says why it cannot (address in use).
    static Expected<std::unique_ptr<VendordataProcess>> start(
        const Config& config, const ConfigSource& source,
        const std::optional<sys::TlsCredentials>& tls);
    ~VendordataProcess();  // stops the process
    VendordataProcess(const VendordataProcess&) = delete;
    VendordataProcess& operator=(const VendordataProcess&) = delete;

    const std::string& url() const { return url_; }
    // Readable when the process reports counters or ends: then call on_readable().
    int fd() const { return channel_.get(); }
    void on_readable();
    // Starts the process again when it ended and its back-off is over.
    void on_tick();
    // A reload: the process reads the config again (policy, rules, limits); it is replaced
    // by one started with `source`, on the same socket (clients wait in its queue).
    Status reconfigure(const Config& config, const ConfigSource& source);
    // {url, pid, restarts, answered, refused, responses{code: n}, connections...}
    nlohmann::json status() const;

  private:
    VendordataProcess() = default;
    Status spawn();
    Status await_ready();
    void ended();
    // The sealed setup document every incarnation reads: config text, log level, TLS files.
    static Expected<sys::UniqueFd> make_setup(const Config& config, const ConfigSource& source,
                                              const std::optional<sys::TlsCredentials>& tls);

    std::optional<sys::TlsCredentials> tls_;  // as preflight read them (as root) at start
    sys::UniqueFd listener_;
    sys::UniqueFd setup_;    // the sealed setup document (memfd), read by every incarnation
    sys::UniqueFd channel_;  // from the running process: counters; EOF when it ends
    pid_t pid_ = -1;
    std::string url_;
    unsigned restarts_ = 0;
    std::chrono::seconds backoff_{1};
    std::optional<std::chrono::steady_clock::time_point> restart_at_;
    std::chrono::steady_clock::time_point started_at_{};
    nlohmann::json counters_ = nlohmann::json::object();  // the running incarnation's
    nlohmann::json totals_ = nlohmann::json::object();    // the ended ones', summed
};

}  // namespace cloudtime::daemon
