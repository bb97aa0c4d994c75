// SPDX-License-Identifier: Apache-2.0
#include "vendordata/vendordata_service.hpp"

#include <spdlog/spdlog.h>

#include <csignal>

#include "http/http_server.hpp"
#include "net/fd_passing.hpp"
#include "sys/log_output.hpp"
#include "sys/paths.hpp"
#include "sys/privileges.hpp"
#include "sys/resource_limits.hpp"
#include "sys/seccomp_filter.hpp"
#include "sys/text_file.hpp"
#include "vendordata/vendordata_endpoint.hpp"
#include "vendordata/vendordata_process.hpp"

namespace cloudtime::daemon {

namespace {
constexpr int kListenerFd = 3;
constexpr int kSetupFd = 4;
constexpr int kChannelFd = 5;
constexpr std::size_t kSetupLimit = 64U << 20U;
constexpr std::uint64_t kSpareFds = 64;  // logging, TLS, the channel
constexpr const char* kFallbackUser = "nobody";

nlohmann::json counters_json(const sys::HttpServerCounters& c) {
    nlohmann::json responses = nlohmann::json::object();
    for (const auto& [code, n] : c.responses) {
        responses[std::to_string(code)] = n;
    }
    return {{"connections", c.connections}, {"over_client_limit", c.over_client_limit},
            {"evicted", c.evicted},         {"deadline_expired", c.deadline_expired},
            {"malformed", c.malformed},     {"not_allowed", c.not_allowed},
            {"responses", responses},       {"open", c.open}};
}

#ifndef CLOUDTIME_SANITIZED
// What the process may hold besides its connections' buffers.
constexpr std::uint64_t kBaseMemory = 96U << 20U;
constexpr std::uint64_t kPerConnectionOverhead = 64U << 10U;  // TLS state, Asio, bookkeeping

// The most a process with these limits can need: its connections' buffers at their fullest.
std::uint64_t memory_limit(const sys::HttpLimits& l) {
    return kBaseMemory +
           l.max_connections * (l.max_header_bytes + 2 * l.max_body + kPerConnectionOverhead);
}
#endif

// What cloudtimed handed over in the setup document: the config it read, the TLS files.
struct Setup {
    config::Config config;
    std::optional<sys::TlsCredentials> tls;
};

Expected<Setup> read_setup(int fd) {
    auto text = sys::read_whole(fd, kSetupLimit);
    if (!text) {
        return Error{"cannot read the setup from cloudtimed: " + text.error()};
    }
    const auto setup = nlohmann::json::parse(*text, nullptr, false);
    if (!setup.is_object()) {
        return Error{"the setup from cloudtimed is not JSON"};
    }
    sys::start_logging("cloudtimed-http", setup.value("log_level", std::string("info")));
    auto config = config::parse_config(setup.value("config", std::string()),
                                       setup.value("origin", std::string()));
    if (!config) {
        return Error{config.error()};
    }
    Setup out{std::move(config).value(), std::nullopt};
    if (setup.contains("certificate")) {
        out.tls = sys::TlsCredentials{setup.value("certificate", std::string()),
                                      setup.value("key", std::string())};
    }
    return out;
}

// Whatever clients send, this process cannot hold more descriptors than its connections
// need: the limit is set here, and the connections fit under what the system granted.
Expected<sys::HttpLimits> connection_limits(const config::Config::Vendordata& v) {
    auto files = sys::limit_open_files(v.max_connections + kSpareFds);
    if (!files) {
        return Error{files.error()};
    }
    sys::HttpLimits limits{.max_connections = v.max_connections,
                           .max_connections_per_client = v.max_connections_per_client,
                           .max_body = v.max_body};
    if (*files < v.max_connections + kSpareFds) {
        limits.max_connections = *files > 2 * kSpareFds ? *files - kSpareFds : kSpareFds;
        spdlog::warn(
            "vendordata: the open files limit ({}) allows {} connections, not "
            "vendordata.max_connections = {}",
            *files, limits.max_connections, v.max_connections);
    }
    return limits;
}

// Once serving is set up: capped memory, the server's user (or nobody), the seccomp filter.
Status confine(const config::Config& config, const sys::HttpLimits& limits) {
#ifndef CLOUDTIME_SANITIZED  // the sanitizers' shadow memory does not fit under such a cap
    if (auto s = sys::limit_data(memory_limit(limits)); !s) {
        return s;
    }
#else
    (void)limits;
#endif
    if (sys::running_as_root()) {
        const std::string user = config.user.empty() ? kFallbackUser : config.user;
        if (auto dropped = sys::drop_privileges(user); !dropped) {
            return Error{"cannot drop privileges to user '" + user + "': " + dropped.error()};
        }
    }
    if (config.seccomp) {
        if (auto filtered = sys::restrict_system_calls(sys::SyscallProfile::http_server);
            !filtered) {
            return filtered.failure();
        }
    }
    return Done{};
}
}  // namespace

int run_vendordata_process() {
    sys::set_process_name("cloudtimed-http");
    // `pkill -HUP cloudtimed` and the like reach this process too: they must not end it.
    sys::ignore_signals({SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE});
    sys::UniqueFd listener(kListenerFd);
    const sys::UniqueFd setup_fd(kSetupFd);
    const sys::UniqueFd channel(kChannelFd);
    const auto report = [&](const nlohmann::json& j) {
        (void)sys::send_message(channel.get(), j.dump());
    };
    const auto fail = [&](const std::string& why) {
        report({{"error", "vendordata: " + why}});
        return 1;
    };
    auto setup = read_setup(setup_fd.get());
    if (!setup) {
        return fail(setup.error());
    }
    const auto& v = setup->config.vendordata;
    auto limits = connection_limits(v);
    if (!limits) {
        return fail(limits.error());
    }
    VendordataEndpoint endpoint(v);
    sys::HttpHandlers handlers{
        .answer = [&](const sys::HttpRequest& r) { return endpoint.answer(r); },
        .error = &VendordataEndpoint::error,
        .allowed = [&](const sys::SocketAddress& client) { return endpoint.allowed(client); },
        .counters_changed =
            [&](const sys::HttpServerCounters& c) {
                nlohmann::json counters = counters_json(c);
                counters["endpoint"] = endpoint.counters();
                report({{"counters", counters}});
            },
    };
    auto server =
        sys::HttpServer::create(std::move(listener), *limits, setup->tls, std::move(handlers));
    if (!server) {
        return fail(setup->tls ? "cannot use the certificate " + v.tls_certificate +
                                     " with the key " + v.tls_key + ": " + server.error()
                               : server.error());
    }
    if (auto confined = confine(setup->config, *limits); !confined) {
        return fail(confined.error());
    }
    report({{"ready", true}});
    (*server)->run({SIGTERM, SIGINT});
    return 0;
}

}  // namespace cloudtime::daemon
