#include "daemon/vendordata_endpoint.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "cloud/nova_request.hpp"
#include "cloud/vendordata.hpp"
#include "daemon/allowed_clients.hpp"
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
    if (in_allowed_clients(config_.allowed_clients, client)) {
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

namespace {
double milliseconds(std::chrono::steady_clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}
}  // namespace

bool VendordataEndpoint::log_refusal_now() {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_request_refusal_logged_ < kRefusalLogEvery) {
        ++request_refusals_unlogged_;
        return false;
    }
    last_request_refusal_logged_ = now;
    return true;
}

sys::HttpResponse VendordataEndpoint::refuse(const sys::HttpRequest& request, int status,
                                             const std::string& why,
                                             std::chrono::steady_clock::time_point started) {
    const auto took = std::chrono::steady_clock::now() - started;
    count_latency(took);
    if (log_refusal_now()) {
        spdlog::info("vendordata: {} for {} {} {} in {:.2f} ms: {}{}", status,
                     request.peer.host_string(), request.method, request.target, milliseconds(took),
                     why,
                     request_refusals_unlogged_ > 0
                         ? fmt::format("; {} more refused since the last such line",
                                       request_refusals_unlogged_)
                         : std::string());
        request_refusals_unlogged_ = 0;
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
    spdlog::info("vendordata: 200 for {} in {:.2f} ms: instance {}, project {}, image {}: {}{}",
                 request.peer.host_string(), milliseconds(took), instance->instance_id,
                 instance->project_id, instance->image_id.empty() ? "-" : instance->image_id,
                 policy.enabled ? fmt::format("servers {}{}, {}", join(policy.servers, " "),
                                              policy.ptp_kvm ? ", ptp_kvm" : "",
                                              cloud::strategy_name(policy.strategy))
                                : std::string("opted out"),
                 rules.empty() ? std::string() : " (rules " + join(rules, ", ") + ")");
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
            {"rules_matched", rules},
            {"latency", {{"buckets", buckets}, {"sum_us", latency_sum_us_}}}};
}

}  // namespace cloudtime::daemon
