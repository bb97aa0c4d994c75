#include "daemon/vendordata_endpoint.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "cloud/nova_request.hpp"
#include "cloud/vendordata.hpp"
#include "proto/access_list.hpp"
#include "util/strings.hpp"

namespace cloudtime::daemon {

namespace {
constexpr int kTimeoutSeconds = 5;  // Nova's own read timeout: a slower client is gone anyway

bool allowed(const std::vector<sys::Cidr>& clients, const std::string& remote) {
    if (clients.empty()) {
        return true;
    }
    const bool v6 = remote.find(':') != std::string::npos;
    auto address = sys::parse_socket_address((v6 ? "[" + remote + "]" : remote) + ":0");
    if (!address) {
        return false;
    }
    const auto octets = address->mapped_octets();
    return std::any_of(clients.begin(), clients.end(), [&](const sys::Cidr& c) {
        return proto::prefix_contains(c.octets, c.length, octets);
    });
}

void answer_error(httplib::Response& res, int status, const std::string& why) {
    res.status = status;
    res.set_content(nlohmann::json{{"error", why}}.dump() + "\n", "application/json");
}
}  // namespace

VendordataEndpoint::VendordataEndpoint(Config::Vendordata config) : config_(std::move(config)) {}

Expected<std::unique_ptr<VendordataEndpoint>> VendordataEndpoint::start(
    const Config::Vendordata& config) {
    std::unique_ptr<VendordataEndpoint> e(new VendordataEndpoint(config));
    const bool tls = !config.tls_certificate.empty();
    if (tls) {
        auto server = std::make_unique<httplib::SSLServer>(config.tls_certificate.c_str(),
                                                           config.tls_key.c_str());
        if (!server->is_valid()) {
            return Error{"vendordata: cannot use the certificate " + config.tls_certificate +
                         " with the key " + config.tls_key + " (unreadable, or not a pair)"};
        }
        e->server_ = std::move(server);
    } else {
        e->server_ = std::make_unique<httplib::Server>();
    }
    e->install_handlers();
    const std::string host = config.listen.host_string();
    if (!e->server_->bind_to_port(host, config.listen.port())) {
        return Error{"vendordata: cannot listen on " + config.listen.to_string() +
                     " (in use, or not an address of this host)"};
    }
    e->url_ = std::string(tls ? "https://" : "http://") + config.listen.to_string() + config.path;
    e->thread_ = std::thread([raw = e.get()] { raw->server_->listen_after_bind(); });
    return e;
}

VendordataEndpoint::~VendordataEndpoint() {
    if (server_) {  // null when start() failed before making it
        server_->stop();
    }
    if (thread_.joinable()) {
        thread_.join();
    }
}

void VendordataEndpoint::install_handlers() {
    httplib::Server& s = *server_;
    s.set_payload_max_length(config_.max_body);  // larger bodies: 413
    s.set_read_timeout(kTimeoutSeconds, 0);
    s.set_write_timeout(kTimeoutSeconds, 0);
    s.set_keep_alive_max_count(100);
    s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        if (allowed(config_.allowed_clients, req.remote_addr)) {
            return httplib::Server::HandlerResponse::Unhandled;
        }
        ++refused_;
        spdlog::warn("vendordata: refused {} (not in vendordata.allowed_clients)", req.remote_addr);
        answer_error(res, 403, "client not allowed");
        return httplib::Server::HandlerResponse::Handled;
    });
    s.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, const std::exception_ptr&) {
            answer_error(res, 500, "internal error");
        });
    s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
        if (res.body.empty()) {
            answer_error(res, res.status,
                         res.status == 404   ? "no such path"
                         : res.status == 413 ? "request body too large"
                                             : "bad request");
        }
    });
    s.Post(config_.path, [this](const httplib::Request& req, httplib::Response& res) {
        auto instance = cloud::parse_nova_request(req.body);
        if (!instance) {
            ++refused_;
            spdlog::info("vendordata: 400 for {}: {}", req.remote_addr, instance.error());
            answer_error(res, 400, instance.error());
            return;
        }
        const auto delivery =
            cloud::deliver(config_.policy, config_.rules, config_.instance_metadata, *instance);
        const cloud::TimePolicy& policy = delivery.policy;
        const auto value = cloud::vendordata_value(delivery.vendordata);
        res.set_content(value.dump() + "\n", "application/json");
        ++answered_;
        spdlog::debug("vendordata: instance {} of project {} (image {}): {}", instance->instance_id,
                      instance->project_id, instance->image_id,
                      policy.enabled ? "servers " + join(policy.servers, " ") +
                                           (policy.ptp_kvm ? ", ptp_kvm" : "")
                                     : std::string("opted out"));
    });
    const auto not_allowed = [](const httplib::Request&, httplib::Response& res) {
        res.set_header("Allow", "POST");
        answer_error(res, 405, "only POST");
    };
    s.Get(config_.path, not_allowed);
    s.Put(config_.path, not_allowed);
    s.Patch(config_.path, not_allowed);
    s.Delete(config_.path, not_allowed);
    s.Options(config_.path, not_allowed);
}

}  // namespace cloudtime::daemon
