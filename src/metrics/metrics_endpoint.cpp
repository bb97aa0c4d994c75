// SPDX-License-Identifier: Apache-2.0
#include "metrics/metrics_endpoint.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "metrics/exposition.hpp"
#include "net/allowed_clients.hpp"
#include "net/tcp_listen.hpp"

namespace cloudtime::daemon {

namespace {
constexpr int kListenBacklog = 64;
// Prometheus scrapes every 15 s or so: a handful of scrapers, never thousands. Room for many
// more, so that a churn of connections from many addresses cannot close a scraper's new
// connection before its request is read (the HTTP server closes its answered keep-alive
// connection last). A connection waiting for its request holds a few KiB.
constexpr std::size_t kMaxConnections = 256;
constexpr std::size_t kMaxConnectionsPerClient = 4;
constexpr auto kRequestDeadline = std::chrono::seconds(5);
// The main loop answers within a refresh interval at worst; past this the scrape fails.
constexpr auto kRenderTimeout = std::chrono::seconds(2);

sys::HttpResponse plain(int status, std::string body) {
    sys::HttpResponse r;
    r.status = status;
    r.content_type = "text/plain; charset=utf-8";
    r.body = std::move(body);
    return r;
}
}  // namespace

MetricsEndpoint::MetricsEndpoint(config::Config::Metrics config, sys::Wakeup asked)
    : config_(std::move(config)), asked_(std::move(asked)) {}

Expected<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::start(
    const config::Config::Metrics& config) {
    auto asked = sys::Wakeup::create();
    if (!asked) {
        return asked.failure();
    }
    std::unique_ptr<MetricsEndpoint> e(new MetricsEndpoint(config, std::move(asked).value()));
    auto listener = sys::listen_tcp(config.listen, kListenBacklog);
    if (!listener) {
        return Error{"metrics: cannot listen on " + config.listen.to_string() + ": " +
                     listener.error()};
    }
    sys::HttpLimits limits{.max_connections = kMaxConnections,
                           .max_connections_per_client = kMaxConnectionsPerClient,
                           .request_deadline = kRequestDeadline,
                           .max_body = 0};
    MetricsEndpoint* raw = e.get();
    sys::HttpHandlers handlers{
        .answer = [raw](const sys::HttpRequest& r) { return raw->serve(r); },
        .error = [](int status, const std::string& why) { return plain(status, why + "\n"); },
        .allowed = [raw](const sys::SocketAddress& client) { return raw->allowed(client); },
        .counters_changed = nullptr,
    };
    auto server =
        sys::HttpServer::create(std::move(listener).value(), limits, std::nullopt, handlers);
    if (!server) {
        return Error{"metrics: " + server.error()};
    }
    e->server_ = std::move(server).value();
    e->url_ = "http://" + config.listen.to_string() + "/metrics";
    e->thread_ = std::thread([raw] { raw->server_->run(); });
    return e;
}

MetricsEndpoint::~MetricsEndpoint() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    answered_.notify_all();
    if (server_) {
        server_->stop();
    }
    if (thread_.joinable()) {
        thread_.join();
    }
}

bool MetricsEndpoint::allowed(const sys::SocketAddress& client) const {
    return in_allowed_clients(config_.allowed_clients, client);
}

void MetricsEndpoint::answer(Expected<std::string> text) {
    asked_.drain();
    {
        const std::lock_guard lock(mutex_);
        text_ = std::move(text);
        ++generation_;
    }
    answered_.notify_all();
}

sys::HttpResponse MetricsEndpoint::serve(const sys::HttpRequest& request) {
    const std::string path = request.target.substr(0, request.target.find('?'));
    if (path != "/metrics") {
        return plain(404, "not found: the metrics are at /metrics\n");
    }
    if (request.method != "GET") {
        auto refused = plain(405, "only GET\n");
        refused.headers.emplace_back("Allow", "GET");
        return refused;
    }
    std::unique_lock lock(mutex_);
    const std::uint64_t wanted = generation_ + 1;
    asked_.signal();
    if (!answered_.wait_for(lock, kRenderTimeout,
                            [&] { return stopping_ || generation_ >= wanted; }) ||
        stopping_) {
        return plain(503, "cloudtimed did not render its metrics in time\n");
    }
    if (!text_) {
        spdlog::error("{}", text_.error());
        return plain(500, text_.error() + "\n");
    }
    sys::HttpResponse r;
    r.content_type = std::string(metrics::kContentType);
    r.body = *text_;
    return r;
}

}  // namespace cloudtime::daemon
