// SPDX-License-Identifier: Apache-2.0
// GET /metrics over HTTP, on a thread of the daemon with the HTTP server made for hostile
// clients (a few connections, short deadlines). The text is rendered on the main thread —
// the one that owns what it shows, as for the status socket — when the HTTP thread asks for
// it: a scrape wakes the main loop (fd()), which renders and hands the text back (answer()).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "config/config.hpp"
#include "http/http_server.hpp"
#include "sys/wakeup.hpp"
#include "util/expected.hpp"

namespace cloudtime::daemon {

class MetricsEndpoint {
  public:
    // Binds and starts serving (call before the seccomp filter and the drop of privileges).
    static Expected<std::unique_ptr<MetricsEndpoint>> start(const config::Config::Metrics& config);
    ~MetricsEndpoint();  // stops serving; a scrape still waiting gets 503
    MetricsEndpoint(const MetricsEndpoint&) = delete;
    MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

    const std::string& url() const { return url_; }
    // Readable when a scrape waits for the text: call answer() on the main thread.
    int fd() const { return asked_.fd(); }
    void answer(Expected<std::string> text);

  private:
    MetricsEndpoint(config::Config::Metrics config, sys::Wakeup asked);
    sys::HttpResponse serve(const sys::HttpRequest& request);
    bool allowed(const sys::SocketAddress& client) const;

    config::Config::Metrics config_;
    sys::Wakeup asked_;
    std::string url_;
    std::unique_ptr<sys::HttpServer> server_;
    std::thread thread_;

    std::mutex mutex_;
    std::condition_variable answered_;
    std::uint64_t generation_ = 0;  // answers given so far
    Expected<std::string> text_ = Error{"not rendered yet"};
    bool stopping_ = false;
};

}  // namespace cloudtime::daemon
