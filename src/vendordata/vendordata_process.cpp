// SPDX-License-Identifier: Apache-2.0
#include "vendordata/vendordata_process.hpp"

#include <spdlog/spdlog.h>

#include "http/http_server.hpp"
#include "net/fd_passing.hpp"
#include "net/tcp_listen.hpp"
#include "sys/poller.hpp"
#include "sys/process.hpp"
#include "sys/text_file.hpp"
#include "vendordata/vendordata_counts.hpp"

namespace cloudtime::daemon {

namespace {
constexpr int kListenBacklog = 1024;
constexpr int kReadyTimeoutMs = 10'000;
constexpr int kStopGraceMs = 2'000;
constexpr auto kMaxBackoff = std::chrono::seconds(30);
constexpr auto kStableAfter = std::chrono::seconds(60);  // then a new failure starts at 1 s

}  // namespace

Expected<std::unique_ptr<VendordataProcess>> VendordataProcess::start(
    const Config& config, const ConfigSource& source,
    const std::optional<sys::TlsCredentials>& tls) {
    const auto& v = config.vendordata;
    std::unique_ptr<VendordataProcess> p(new VendordataProcess());
    auto listener = sys::listen_tcp(v.listen, kListenBacklog);
    if (!listener) {
        return Error{"vendordata: cannot listen on " + v.listen.to_string() + ": " +
                     listener.error()};
    }
    p->listener_ = std::move(listener).value();
    p->tls_ = tls;
    auto setup = make_setup(config, source, tls);
    if (!setup) {
        return setup.failure();
    }
    p->setup_ = std::move(setup).value();
    p->url_ = std::string(tls ? "https://" : "http://") + v.listen.to_string() + v.path;
    if (auto spawned = p->spawn(); !spawned) {
        return spawned.failure();
    }
    if (auto ready = p->await_ready(); !ready) {
        return ready.failure();
    }
    return p;
}

Expected<sys::UniqueFd> VendordataProcess::make_setup(
    const Config& config, const ConfigSource& source,
    const std::optional<sys::TlsCredentials>& tls) {
    nlohmann::json setup{
        {"config", source.text}, {"origin", source.origin}, {"log_level", config.log_level}};
    if (tls) {
        setup["certificate"] = tls->certificate_chain_pem;
        setup["key"] = tls->private_key_pem;
    }
    return sys::memory_file("cloudtime-vendordata-setup", setup.dump());
}

Status VendordataProcess::reconfigure(const Config& config, const ConfigSource& source) {
    auto setup = make_setup(config, source, tls_);
    if (!setup) {
        return setup.failure();
    }
    setup_ = std::move(setup).value();
    if (pid_ > 0) {
        sys::stop_child(pid_, kStopGraceMs);
        add_counts(totals_, counters_);
        counters_ = nlohmann::json::object();
        channel_.reset();
        pid_ = -1;
    }
    // Rules are counted by their number in the config, which the new one may give to others.
    if (auto endpoint = totals_.find("endpoint"); endpoint != totals_.end()) {
        endpoint->erase("rules_matched");
    }
    restart_at_.reset();
    Status started = spawn();
    if (started) {
        started = await_ready();
    }
    if (!started) {
        restart_at_ = std::chrono::steady_clock::now() + backoff_;
    }
    return started;
}

Status VendordataProcess::spawn() {
    auto channel = sys::make_channel();
    if (!channel) {
        return channel.failure();
    }
    auto pid = sys::spawn_self("cloudtimed-http", {"--vendordata-process"},
                               {listener_.get(), setup_.get(), channel->second.get()});
    if (!pid) {
        return Error{"vendordata: cannot start its process: " + pid.error()};
    }
    pid_ = *pid;
    channel_ = std::move(channel->first);
    started_at_ = std::chrono::steady_clock::now();
    return Done{};
}

Status VendordataProcess::await_ready() {
    if (!sys::wait_readable(channel_.get(), kReadyTimeoutMs)) {
        sys::stop_child(pid_, 0);
        pid_ = -1;
        return Error{"vendordata: its process did not start within 10 s"};
    }
    auto message = sys::receive_message(channel_.get());
    if (!message || !*message) {
        const std::string how = sys::await_child_end(pid_, kStopGraceMs).description;
        pid_ = -1;
        return Error{"vendordata: its process ended at start (" + how + ")"};
    }
    const ProcessMessage ready = read_process_message((*message)->text);
    if (ready.kind != ProcessMessage::Kind::ready) {
        const std::string why = ready.kind == ProcessMessage::Kind::error
                                    ? ready.error
                                    : std::string("an unexpected message at start");
        sys::await_child_end(pid_, kStopGraceMs);
        pid_ = -1;
        return Error{why};
    }
    spdlog::info("vendordata: serving in its own process (pid {})", pid_);
    return Done{};
}

void VendordataProcess::on_readable() {
    auto message = sys::receive_message(channel_.get());
    if (!message || !*message) {
        ended();
        return;
    }
    ProcessMessage said = read_process_message((*message)->text);
    switch (said.kind) {
        case ProcessMessage::Kind::counters:
            counters_ = std::move(said.counters);
            break;
        case ProcessMessage::Kind::ready:
            spdlog::info("vendordata: serving again in its own process (pid {})", pid_);
            break;
        case ProcessMessage::Kind::error:
            spdlog::error("vendordata: {}", said.error);
            break;
        case ProcessMessage::Kind::unreadable:
            break;
    }
}

void VendordataProcess::ended() {
    const sys::ChildEnd end = sys::await_child_end(pid_, kStopGraceMs);
    add_counts(totals_, counters_);
    counters_ = nlohmann::json::object();
    channel_.reset();
    const auto now = std::chrono::steady_clock::now();
    if (now - started_at_ > kStableAfter) {
        backoff_ = std::chrono::seconds(1);
    }
    // Exit status 0 is its answer to SIGTERM or SIGINT sent to it (a service manager stopping
    // the whole service reaches it too, maybe before cloudtimed): a warning, not a failure.
    spdlog::log(end.exited && end.status == 0 ? spdlog::level::warn : spdlog::level::err,
                "vendordata: its process (pid {}) ended ({}); starting it again in {} s", pid_,
                end.description, backoff_.count());
    pid_ = -1;
    restart_at_ = now + backoff_;
    backoff_ = std::min(backoff_ * 2, std::chrono::seconds(kMaxBackoff));
}

void VendordataProcess::on_tick() {
    if (!restart_at_ || std::chrono::steady_clock::now() < *restart_at_) {
        return;
    }
    restart_at_.reset();
    ++restarts_;
    if (auto spawned = spawn(); !spawned) {
        spdlog::error("{}; trying again in {} s", spawned.error(), backoff_.count());
        restart_at_ = std::chrono::steady_clock::now() + backoff_;
    }
}

nlohmann::json VendordataProcess::status() const {
    return vendordata_status(totals_, counters_, {url_, pid_, restarts_});
}

VendordataProcess::~VendordataProcess() {
    if (pid_ > 0) {
        sys::stop_child(pid_, kStopGraceMs);
    }
}

}  // namespace cloudtime::daemon
