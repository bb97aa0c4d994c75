// SPDX-License-Identifier: Apache-2.0
#include "vendordata/vendordata_endpoint.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "cloud/nova_request.hpp"
#include "cloud/vendordata.hpp"
#include "net/allowed_clients.hpp"
#include "util/strings.hpp"

namespace cloudtime::daemon {

namespace {
std::string left_out_since(std::uint64_t n, const char* what) {
    return n == 0 ? std::string()
                  : fmt::format("; {} more {} since the last such line (not logged one by one)", n,
                                what);
}
}  // namespace

sys::HttpResponse VendordataEndpoint::error(int status, const std::string& why) {
    sys::HttpResponse response;
    response.status = status;
    response.body = nlohmann::json{{"error", why}}.dump() + "\n";
    return response;
}

bool VendordataEndpoint::allowed(const sys::SocketAddress& client) {
    if (in_allowed_clients(config_.allowed_clients, client)) {
        return true;
    }
    // A refused flood must not flood the log too.
    if (const auto left_out = client_refusal_lines_.take(LineBudget::Clock::now())) {
        spdlog::warn("vendordata: refused {} (not in vendordata.allowed_clients){}",
                     client.host_string(), left_out_since(*left_out, "refused"));
    }
    return false;
}

namespace {
double milliseconds(std::chrono::steady_clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}
}  // namespace

sys::HttpResponse VendordataEndpoint::refuse(const sys::HttpRequest& request, int status,
                                             const std::string& why,
                                             std::chrono::steady_clock::time_point started) {
    const auto took = std::chrono::steady_clock::now() - started;
    count_latency(took);
    if (const auto left_out = request_refusal_lines_.take(LineBudget::Clock::now())) {
        spdlog::info("vendordata: {} for {} {} {} in {:.2f} ms: {}{}", status,
                     request.peer.host_string(), request.method, request.target, milliseconds(took),
                     why, left_out_since(*left_out, "refused"));
    }
    return error(status, why);
}

void VendordataEndpoint::count_latency(std::chrono::steady_clock::duration took) {
    const double s = std::chrono::duration<double>(took).count();
    std::size_t bucket = 0;
    while (bucket < kLatencyBounds.size() && s > kLatencyBounds[bucket]) {
        ++bucket;
    }
    ++latency_[bucket];
    latency_sum_us_ += static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(took).count());
}

sys::HttpResponse VendordataEndpoint::answer(const sys::HttpRequest& request) {
    const auto started = std::chrono::steady_clock::now();
    const std::string path = request.target.substr(0, request.target.find('?'));
    if (path != config_.path) {
        return refuse(request, 404, "no such path", started);
    }
    if (request.method != "POST") {
        auto refused = refuse(request, 405, "only POST", started);
        refused.headers.emplace_back("Allow", "POST");
        return refused;
    }
    auto instance = cloud::parse_nova_request(request.body);
    if (!instance) {
        return refuse(request, 400, instance.error(), started);
    }
    const auto delivery =
        cloud::deliver(config_.policy, config_.rules, config_.instance_metadata, *instance);
    const cloud::TimePolicy& policy = delivery.policy;
    sys::HttpResponse response;
    response.body = cloud::vendordata_value(delivery.vendordata).dump() + "\n";
    ++(policy.enabled ? delivered_ : opted_out_);
    std::vector<std::string> rules;
    for (const std::size_t i : delivery.rules_matched) {
        ++rules_matched_[i + 1];
        rules.push_back(std::to_string(i + 1));
    }
    const auto took = std::chrono::steady_clock::now() - started;
    count_latency(took);
    if (const auto left_out = delivery_lines_.take(LineBudget::Clock::now())) {
        spdlog::info(
            "vendordata: 200 for {} in {:.2f} ms: instance {}, project {}, image {}: {}{}{}",
            request.peer.host_string(), milliseconds(took), instance->instance_id,
            instance->project_id, instance->image_id.empty() ? "-" : instance->image_id,
            policy.enabled ? fmt::format("servers {}{}, {}", join(policy.servers, " "),
                                         policy.ptp_kvm ? ", ptp_kvm" : "",
                                         cloud::strategy_name(policy.strategy))
                           : std::string("opted out"),
            rules.empty() ? std::string() : " (rules " + join(rules, ", ") + ")",
            left_out_since(*left_out, "delivered"));
    }
    return response;
}

nlohmann::json VendordataEndpoint::counters() const {
    nlohmann::json rules = nlohmann::json::object();
    for (const auto& [rule, n] : rules_matched_) {
        rules[std::to_string(rule)] = n;
    }
    nlohmann::json buckets = nlohmann::json::object();
    for (std::size_t i = 0; i < latency_.size(); ++i) {
        buckets[i < kLatencyBounds.size() ? fmt::format("{}", kLatencyBounds[i]) : "+Inf"] =
            latency_[i];
    }
    return {{"deliveries", {{"time", delivered_}, {"opted_out", opted_out_}}},
            {"log_lines_left_out", delivery_lines_.left_out_total() +
                                       request_refusal_lines_.left_out_total() +
                                       client_refusal_lines_.left_out_total()},
            {"rules_matched", rules},
            {"latency", {{"buckets", buckets}, {"sum_us", latency_sum_us_}}}};
}

}  // namespace cloudtime::daemon
