// SPDX-License-Identifier: Apache-2.0
// The [vendordata] role's answers: what Nova's DynamicJSON vendordata provider gets for each
// request. Nova POSTs the instance's facts; the answer is the JSON value cloud-init reads under
// the target name "cloud-init" (vendor_data2.json). The HTTP server around it
// (sys/http_server) runs in its own unprivileged process (daemon/vendordata_process).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "http/http_server.hpp"
#include "util/line_budget.hpp"

namespace cloudtime::daemon {

using config::Config;  // the daemon runs what the config schema describes

class VendordataEndpoint {
  public:
    explicit VendordataEndpoint(Config::Vendordata config) : config_(std::move(config)) {}

    // Answers, counts and logs one request: a line per delivery (instance, project, image,
    // the policy's choice, the rules that matched, milliseconds), at most 20 a second;
    // refusals at most one a second; a line after some were left out says how many.
    sys::HttpResponse answer(const sys::HttpRequest& request);
    // What it counted, for the daemon's status and metrics (summed across incarnations):
    // {"deliveries": {"time": n, "opted_out": n}, "rules_matched": {"1": n, ...},
    //  "latency": {"buckets": {"0.0005": n, ..., "+Inf": n}, "sum_us": n},
    //  "log_lines_left_out": n}.
    nlohmann::json counters() const;
    // The upper bounds of the latency buckets, in seconds.
    static constexpr std::array kLatencyBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                  0.025,  0.05,  0.1,    0.25};
    // Whether vendordata.allowed_clients lets `client` in (logs a refusal, at most once a
    // second with the number of the others).
    bool allowed(const sys::SocketAddress& client);
    // An error the way every answer of this endpoint is written: {"error": why}.
    static sys::HttpResponse error(int status, const std::string& why);

  private:
    sys::HttpResponse refuse(const sys::HttpRequest& request, int status, const std::string& why,
                             std::chrono::steady_clock::time_point started);
    void count_latency(std::chrono::steady_clock::duration took);

    Config::Vendordata config_;
    std::uint64_t delivered_ = 0;
    std::uint64_t opted_out_ = 0;
    std::map<std::size_t, std::uint64_t> rules_matched_;  // 1-based rule number
    std::array<std::uint64_t, kLatencyBounds.size() + 1> latency_{};
    std::uint64_t latency_sum_us_ = 0;
    LineBudget delivery_lines_{20, std::chrono::seconds(1)};
    LineBudget request_refusal_lines_{1, std::chrono::seconds(1)};
    LineBudget client_refusal_lines_{1, std::chrono::seconds(1)};
};

}  // namespace cloudtime::daemon
