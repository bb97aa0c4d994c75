#include "daemon/vendordata_endpoint.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "cloud/nova_request.hpp"
#include "cloud/vendordata.hpp"
#include "proto/access_list.hpp"
#include "util/strings.hpp"

namespace cloudtime::daemon {

namespace {
constexpr auto kRefusalLogEvery = std::chrono::seconds(1);
}  // namespace

sys::HttpResponse VendordataEndpoint::error(int status, const std::string& why) {
    sys::HttpResponse response;
    response.status = status;
    response.body = nlohmann::json{{"error", why}}.dump() + "\n";
    return response;
}

bool VendordataEndpoint::allowed(const sys::SocketAddress& client) {
    const auto octets = client.mapped_octets();
    if (config_.allowed_clients.empty() ||
        std::any_of(config_.allowed_clients.begin(), config_.allowed_clients.end(),
                    [&](const sys::Cidr& c) {
                        return proto::prefix_contains(c.octets, c.length, octets);
                    })) {
        return true;
    }
    // A refused flood must not flood the log too.
    const auto now = std::chrono::steady_clock::now();
    if (now - last_refusal_logged_ < kRefusalLogEvery) {
        ++refusals_unlogged_;
        return false;
    }
    spdlog::warn("vendordata: refused {} (not in vendordata.allowed_clients){}",
                 client.host_string(),
                 refusals_unlogged_ > 0
                     ? fmt::format("; {} more refused since the last such line", refusals_unlogged_)
                     : std::string());
    last_refusal_logged_ = now;
    refusals_unlogged_ = 0;
    return false;
}

sys::HttpResponse VendordataEndpoint::answer(const sys::HttpRequest& request) const {
    const std::string path = request.target.substr(0, request.target.find('?'));
    if (path != config_.path) {
        return error(404, "no such path");
    }
    if (request.method != "POST") {
        auto refused = error(405, "only POST");
        refused.headers.emplace_back("Allow", "POST");
        return refused;
    }
    auto instance = cloud::parse_nova_request(request.body);
    if (!instance) {
        spdlog::info("vendordata: 400 for {}: {}", request.peer.host_string(), instance.error());
        return error(400, instance.error());
    }
    const auto delivery =
        cloud::deliver(config_.policy, config_.rules, config_.instance_metadata, *instance);
    const cloud::TimePolicy& policy = delivery.policy;
    spdlog::debug("vendordata: instance {} of project {} (image {}): {}", instance->instance_id,
                  instance->project_id, instance->image_id,
                  policy.enabled
                      ? "servers " + join(policy.servers, " ") + (policy.ptp_kvm ? ", ptp_kvm" : "")
                      : std::string("opted out"));
    sys::HttpResponse response;
    response.body = cloud::vendordata_value(delivery.vendordata).dump() + "\n";
    return response;
}

}  // namespace cloudtime::daemon
